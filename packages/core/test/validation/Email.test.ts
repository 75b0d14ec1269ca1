import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Email.cases.ts"

runCases("Email", cases)
