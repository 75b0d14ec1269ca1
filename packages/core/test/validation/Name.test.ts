import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Name.cases.ts"

runCases("Name", cases)
