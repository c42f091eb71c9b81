/**
 * Cookie sessions for `@effect/platform`'s `HttpApi`, `userharbor/http` (needs `@effect/platform`): the
 * `Authentication` middleware and the session cookie (`HttpSession`), and the library's errors as response bodies
 * (`HttpErrors`).
 *
 * @since 0.3.0
 */

/**
 * @since 0.3.0
 */
export * as HttpErrors from "./HttpErrors.js"
/**
 * @since 0.3.0
 */
export * as HttpSession from "./HttpSession.js"
