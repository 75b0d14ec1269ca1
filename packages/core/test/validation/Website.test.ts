import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Website.cases.ts"

runCases("Website", cases)
