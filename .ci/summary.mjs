// Reads vitest's JSON report, prints "N passed, N failed", and fails when nothing ran or when a suite that CI
// must always run (real databases, Redis, the browser) was skipped.
import { existsSync, readFileSync } from "node:fs"

const file = process.argv[2]
if (!file || !existsSync(file)) {
  console.log("0 passed, 0 failed")
  console.error(`no vitest report at ${file}: the type check or the test run failed before reporting`)
  process.exit(1)
}
const report = JSON.parse(readFileSync(file, "utf8"))
const mustRun = /([\\/](pg|mysql|redis)(\.[a-z.]+)?|\.browser)\.test\.ts$/
// Elsewhere, a suite skipped for a missing USERHARBOR_TEST_* variable leaves one test named "needs <variable>".
const neededVariable = /^needs USERHARBOR_TEST_/
const skippedRequired = report.testResults.flatMap((suite) =>
  suite.assertionResults.filter((test) =>
    test.status !== "passed" && test.status !== "failed" &&
    (mustRun.test(suite.name) || neededVariable.test(test.title))
  ).map((test) => `${suite.name}: ${test.fullName}`)
)
const requiredFiles = report.testResults.filter((suite) => mustRun.test(suite.name)).length
console.log(
  `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${
    report.numPendingTests + report.numTodoTests
  } skipped`
)
if (skippedRequired.length > 0) {
  console.error(`suites CI must run were skipped:\n  ${skippedRequired.join("\n  ")}`)
  process.exit(1)
}
if (requiredFiles === 0) console.error("note: no database or browser suite found in this run")
process.exit(report.numPassedTests > 0 && report.numFailedTests === 0 && report.success !== false ? 0 : 1)
