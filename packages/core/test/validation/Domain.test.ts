import { runCases } from "../support/ValidationCases.ts"
import { cases } from "./Domain.cases.ts"

runCases("Domain", cases)
