import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Linkedin.cases.ts"

runCases("Linkedin", cases)
