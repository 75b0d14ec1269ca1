import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Address.cases.ts"

runCases("Address", cases)
