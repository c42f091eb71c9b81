// The pages' only script. It calls the JSON API with fetch (same origin, so the browser adds the session cookie
// and an `Origin` header) and shows the `message` of any error body.

const call = async (method, path, body) => {
  const init = body === undefined
    ? { method }
    : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
  const response = await fetch(path, init)
  const text = await response.text()
  return { ok: response.ok, status: response.status, data: text === "" ? null : JSON.parse(text) }
}

const show = (element, text, ok) => {
  element.textContent = text
  element.className = `status ${ok ? "ok" : "error"}`
}

const explain = (result) => result.data?.message ?? `Request failed (${result.status})`

// Reads `#token=...` and removes it from the address bar and history, so it is not left behind.
const takeToken = () => {
  const token = new URLSearchParams(location.hash.slice(1)).get("token")
  history.replaceState(null, "", location.pathname)
  return token
}

// Binds a form: `send` gets the form's fields and returns the result of `call`; `done` runs on success.
const bind = (id, send, done) => {
  const form = document.getElementById(id)
  form.addEventListener("submit", async (event) => {
    event.preventDefault()
    const status = form.querySelector(".status")
    const result = await send(Object.fromEntries(new FormData(form)))
    if (!result.ok) return show(status, explain(result), false)
    form.reset()
    await done(result, status)
  })
}

const when = (value) => new Date(value).toLocaleString()

// Fills `#sessions` from `GET /api/sessions`: one item per live session, built with `textContent` (never HTML),
// the current one marked "this device", the others with a "Sign out" button that carries the session's id.
const showSessions = async () => {
  const list = document.getElementById("sessions")
  const result = await call("GET", "/api/sessions")
  if (!result.ok) return show(document.getElementById("sessions-status"), explain(result), false)
  // This device first, then the most recently used.
  const sessions = [...result.data].sort((a, b) =>
    Number(b.current) - Number(a.current) || Date.parse(b.lastUsedAt) - Date.parse(a.lastUsedAt)
  )
  list.replaceChildren(...sessions.map((session) => {
    const item = document.createElement("li")
    item.dataset.sessionId = session.id
    const text = document.createElement("span")
    text.className = "when"
    text.textContent = `Signed in ${when(session.createdAt)}`
    const dates = document.createElement("span")
    dates.className = "dates"
    dates.textContent = `Last used ${when(session.lastUsedAt)} · expires ${when(session.expiresAt)}`
    text.append(dates)
    item.append(text)
    if (session.current) {
      const current = document.createElement("span")
      current.className = "current"
      current.textContent = "This device"
      item.append(current)
    } else {
      const button = document.createElement("button")
      button.type = "button"
      button.textContent = "Sign out"
      button.dataset.revoke = session.id
      item.append(button)
    }
    return item
  }))
  document.querySelector("#sign-out-others button").disabled = !sessions.some((session) => !session.current)
}

const pages = {
  "sign-up": () => {
    bind(
      "sign-up",
      (fields) => call("POST", "/api/accounts", fields),
      (_, status) => show(status, "Check your inbox for a link to confirm your address.", true)
    )
    bind(
      "resend",
      (fields) => call("POST", "/api/accounts/verify-email/resend", fields),
      (_, status) => show(status, "If that address has an unconfirmed account, a new link is on its way.", true)
    )
  },
  "sign-in": () => {
    bind(
      "sign-in",
      ({ login, password }) =>
        call("POST", "/api/sessions", login.includes("@") ? { email: login, password } : { username: login, password }),
      () => location.assign("/account")
    )
  },
  account: async () => {
    const me = await call("GET", "/api/accounts/me")
    if (!me.ok) return location.assign("/sign-in")
    const dates = new Set(["createdAt", "sessionExpiresAt"])
    for (const element of document.querySelectorAll("[data-field]")) {
      const value = me.data[element.dataset.field]
      element.textContent = dates.has(element.dataset.field)
        ? new Date(value).toLocaleString()
        : typeof value === "boolean"
        ? (value ? "yes" : "no")
        : value
    }
    bind(
      "change-password",
      (fields) => call("POST", "/api/accounts/me/password", fields),
      (_, status) => show(status, "Password changed. Your other sessions were signed out.", true)
    )
    await showSessions()
    document.getElementById("sessions").addEventListener("click", async (event) => {
      const id = event.target.dataset?.revoke
      if (id === undefined) return
      const result = await call("DELETE", `/api/sessions/${encodeURIComponent(id)}`)
      const status = document.getElementById("sessions-status")
      if (!result.ok) return show(status, explain(result), false)
      show(status, "That device is signed out.", true)
      await showSessions()
    })
    bind("sign-out-others", () => call("DELETE", "/api/sessions/others"), async ({ data }, status) => {
      const devices = data.revoked === 1 ? "1 other device" : `${data.revoked} other devices`
      show(status, `Signed out ${devices}.`, true)
      await showSessions()
    })
    bind("sign-out", () => call("DELETE", "/api/sessions/current"), () => location.assign("/sign-in"))
    bind("sign-out-everywhere", () => call("DELETE", "/api/sessions"), () => location.assign("/sign-in"))
    bind("delete-account", (fields) => call("DELETE", "/api/accounts/me", fields), () => location.assign("/sign-up"))
  },
  // Loading the page only reads the token: a mail scanner that opens the link (even one that runs scripts) must
  // not confirm the address, so the POST waits for the user's click.
  verify: () => {
    const token = takeToken()
    if (token === null) {
      document.querySelector("#verify button").disabled = true
      return show(document.querySelector("#verify .status"), "This link has no token.", false)
    }
    bind(
      "verify",
      () => call("POST", "/api/accounts/verify-email", { token }),
      (_, status) => {
        document.querySelector("#verify button").disabled = true
        show(status, "Your email address is confirmed. You can sign in.", true)
      }
    )
  },
  "forgot-password": () => {
    bind(
      "forgot-password",
      (fields) => call("POST", "/api/accounts/password-reset", fields),
      (_, status) => show(status, "If an account uses that address, a reset link is on its way.", true)
    )
  },
  reset: () => {
    const token = takeToken()
    bind(
      "reset",
      ({ newPassword }) => call("POST", "/api/accounts/password-reset/confirm", { token: token ?? "", newPassword }),
      (_, status) => show(status, "Your password is changed. You can sign in.", true)
    )
  }
}

pages[document.body.dataset.page]?.()
