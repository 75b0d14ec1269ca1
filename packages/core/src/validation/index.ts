/**
 * Validation: the rules a record must pass to leave the invalid table for the master table, one rule
 * family per module, composed per entity in `Validation`.
 */
export { isBartonId } from "./BartonId.ts"
export { hostingPlatforms } from "./HostName.ts"
export type { ReasonCode } from "./ReasonCode.ts"
export { reasonCodes } from "./ReasonCode.ts"
export type { ValidationRule } from "./RuleCatalog.ts"
export { fieldPriority, validationRules } from "./RuleCatalog.ts"
export { usStateCodes } from "./UsStates.ts"
export type { ValidationOutcome } from "./Validation.ts"
export {
  companyFieldPriority,
  personFieldPriority,
  validate,
  validateCompany,
  validatePerson
} from "./Validation.ts"
