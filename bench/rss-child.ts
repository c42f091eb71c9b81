/** Scenario 5's child: `tsx bench/rss-child.ts <attempts>` prints one JSON line (maxRSS never goes down). */
import { loginAttempts } from "./passwords.js"

loginAttempts(Number(process.argv[2] ?? "10")).then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
