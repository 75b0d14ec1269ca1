import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Phone.cases.ts"

runCases("Phone", cases)
