// CSV writing lives in src/csv.ts beside the parser (connectors write CSV too, and must not import the
// report). Re-exported here so the report modules' imports keep working while other work on them is in flight.
export { csvCell, csvLine } from "../csv.js";
