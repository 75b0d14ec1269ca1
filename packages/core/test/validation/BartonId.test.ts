import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./BartonId.cases.ts"

runCases("BartonId", cases)
