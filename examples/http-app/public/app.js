// The pages' script. It calls the JSON API with fetch (same origin, so the browser adds the session cookie
// and an `Origin` header) and shows the `message` of any error body. `webauthn.js` encodes passkey ceremonies.
import { createPasskey, getPasskey, passkeysSupported } from "/webauthn.js"

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

// Fills `#activity` from `GET /api/accounts/me/activity`, with `textContent` like the sessions list.
const showActivity = async () => {
  const result = await call("GET", "/api/accounts/me/activity")
  if (!result.ok) return show(document.getElementById("activity-status"), explain(result), false)
  document.getElementById("activity").replaceChildren(...result.data.map((entry) => {
    const item = document.createElement("li")
    item.dataset.eventType = entry.type
    const what = document.createElement("span")
    what.className = "what"
    what.textContent = entry.description
    const details = document.createElement("span")
    details.className = "dates"
    details.textContent = entry.clientKey === undefined ? when(entry.at) : `${when(entry.at)} · ${entry.clientKey}`
    item.append(what, details)
    return item
  }))
}

// Fills `#sessions` from `GET /api/sessions`: one item per live session, built with `textContent` (never HTML),
// each named by its device ("Firefox on Windows") and network, the current one marked "this device", the others with a "Sign out" button that carries the session's id.
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
    const device = document.createElement("span")
    device.className = "device"
    device.textContent = session.device.address === null
      ? session.device.label
      : `${session.device.label} · ${session.device.address}`
    text.append(device, `Signed in ${when(session.createdAt)}`)
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

// A passkey ceremony: the options from `optionsPath`, then `finish(options)` (the browser's dialog and the POST of
// its answer). A dismissed dialog is an answer like a failed request, so the form shows it.
const withPasskey = async (optionsPath, finish) => {
  const options = await call("POST", optionsPath)
  if (!options.ok) return options
  try {
    return await finish(options.data)
  } catch (error) {
    return { ok: false, status: 0, data: { message: `No passkey was used (${error.name})` } }
  }
}

// Two-step verification's state from `GET /api/accounts/me/factors`: which forms apply, and how many recovery
// codes are left.
const showFactors = async () => {
  const result = await call("GET", "/api/accounts/me/factors")
  const state = document.getElementById("totp-state")
  if (!result.ok) return show(state, explain(result), false)
  const totp = result.data.find((factor) => factor.kind === "totp")
  const codes = result.data.find((factor) => factor.kind === "recovery-codes")
  state.textContent = totp === undefined
    ? "Off"
    : `On since ${when(totp.enabledAt)} · ${codes?.remaining ?? 0} recovery codes left`
  document.getElementById("totp-begin").hidden = totp !== undefined
  document.getElementById("totp-disable").hidden = totp === undefined
  document.getElementById("recovery-regenerate").hidden = totp === undefined
}

const showRecoveryCodes = (codes) => {
  document.getElementById("recovery-codes").replaceChildren(...codes.map((code) => {
    const item = document.createElement("li")
    item.textContent = code
    return item
  }))
  document.getElementById("recovery").hidden = false
}

// Fills `#passkeys`, built with `textContent` like the sessions list; each item's buttons carry the passkey's id.
const showPasskeys = async () => {
  const result = await call("GET", "/api/accounts/me/passkeys")
  const status = document.getElementById("passkeys-status")
  if (result.data?._tag === "PasskeysOff") {
    document.getElementById("passkey-add").hidden = true
    status.textContent = "Passkeys are not enabled on this server."
    return
  }
  if (!result.ok) return show(status, explain(result), false)
  const list = document.getElementById("passkeys")
  list.replaceChildren(...result.data.map((passkey) => {
    const item = document.createElement("li")
    item.dataset.passkeyId = passkey.id
    const text = document.createElement("span")
    text.className = "when"
    text.textContent = passkey.name
    const dates = document.createElement("span")
    dates.className = "dates"
    dates.textContent = `Added ${when(passkey.createdAt)}` +
      (passkey.lastUsedAt === undefined ? "" : ` · last used ${when(passkey.lastUsedAt)}`)
    text.append(dates)
    const rename = document.createElement("button")
    rename.type = "button"
    rename.className = "link"
    rename.textContent = "Rename"
    rename.dataset.rename = passkey.id
    const remove = document.createElement("button")
    remove.type = "button"
    remove.textContent = "Remove"
    remove.dataset.remove = passkey.id
    item.append(text, rename, remove)
    return item
  }))
  if (result.data.length === 0) {
    const empty = document.createElement("li")
    empty.textContent = "No passkeys yet."
    list.append(empty)
  }
}

// A page whose form POSTs the link's token (`#token=`) to `path` when clicked, once. Loading the page only reads
// the token: a mail scanner that opens the link (even one that runs scripts) must not act on it.
const tokenForm = (id, path, done) => {
  const token = takeToken()
  const button = document.querySelector(`#${id} button`)
  if (token === null) {
    button.disabled = true
    return show(document.querySelector(`#${id} .status`), "This link has no token.", false)
  }
  bind(id, () => call("POST", path, { token }), (_, status) => {
    button.disabled = true
    show(status, done, true)
  })
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
    // The challenge of `SecondFactorRequired`: kept in memory only, never in the address bar or storage.
    let challenge = null
    const secondFactor = document.getElementById("second-factor")
    const signIn = document.getElementById("sign-in")
    signIn.addEventListener("submit", async (event) => {
      event.preventDefault()
      const { login, password } = Object.fromEntries(new FormData(signIn))
      const body = login.includes("@") ? { email: login, password } : { username: login, password }
      const result = await call("POST", "/api/sessions", body)
      if (result.ok) return location.assign("/account")
      if (result.data?._tag !== "SecondFactorRequired") {
        return show(signIn.querySelector(".status"), explain(result), false)
      }
      challenge = result.data.challenge
      signIn.reset()
      signIn.hidden = true
      secondFactor.hidden = false
      secondFactor.querySelector("input").focus()
    })
    bind(
      "second-factor",
      ({ code }) => call("POST", "/api/sessions/second-factor", { challenge, code }),
      () => location.assign("/account")
    )
    const passkey = document.getElementById("passkey-sign-in")
    passkey.hidden = !passkeysSupported()
    bind(
      "passkey-sign-in",
      () =>
        withPasskey(
          "/api/sessions/passkey/options",
          (options) => getPasskey(options).then((response) => call("POST", "/api/sessions/passkey", { response }))
        ),
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
    const showPendingEmail = async () => {
      const pending = await call("GET", "/api/accounts/me/email-change")
      const element = document.getElementById("email-pending")
      element.hidden = !pending.ok || pending.data === null
      if (!element.hidden) {
        element.textContent = `Waiting for you to confirm ${pending.data.newEmail} (the link expires ` +
          `${when(pending.data.expiresAt)}).`
      }
    }
    await showPendingEmail()
    bind("change-email", (fields) => call("POST", "/api/accounts/me/email-change", fields), async (_, status) => {
      show(status, "Check the new address's inbox for a link to confirm it.", true)
      await showPendingEmail()
    })
    bind(
      "change-password",
      (fields) => call("POST", "/api/accounts/me/password", fields),
      (_, status) => show(status, "Password changed. Your other sessions were signed out.", true)
    )
    await Promise.all([showSessions(), showActivity()])
    document.getElementById("sessions").addEventListener("click", async (event) => {
      const id = event.target.dataset?.revoke
      if (id === undefined) return
      const result = await call("DELETE", `/api/sessions/${encodeURIComponent(id)}`)
      const status = document.getElementById("sessions-status")
      if (!result.ok) return show(status, explain(result), false)
      show(status, "That device is signed out.", true)
      await Promise.all([showSessions(), showActivity()])
    })
    bind("sign-out-others", () => call("DELETE", "/api/sessions/others"), async ({ data }, status) => {
      const devices = data.revoked === 1 ? "1 other device" : `${data.revoked} other devices`
      show(status, `Signed out ${devices}.`, true)
      await Promise.all([showSessions(), showActivity()])
    })
    bind("sign-out", () => call("DELETE", "/api/sessions/current"), () => location.assign("/sign-in"))
    bind("sign-out-everywhere", () => call("DELETE", "/api/sessions"), () => location.assign("/sign-in"))
    bind("delete-account", (fields) => call("DELETE", "/api/accounts/me", fields), () => location.assign("/sign-up"))
  },
  settings: async () => {
    const me = await call("GET", "/api/accounts/me")
    if (!me.ok) return location.assign("/sign-in")
    await showFactors()
    bind("totp-begin", (fields) => call("POST", "/api/accounts/me/totp", fields), ({ data }) => {
      document.getElementById("totp-begin").hidden = true
      document.getElementById("totp-state").textContent = "Off until you enter a code below"
      // The QR code is the server's SVG; parsed as XML (no HTML, no script runs) and imported as an element.
      const svg = new DOMParser().parseFromString(data.qrSvg, "image/svg+xml").documentElement
      document.getElementById("totp-qr").replaceChildren(document.importNode(svg, true))
      document.getElementById("totp-secret").textContent = data.secret
      document.getElementById("totp-setup").hidden = false
    })
    bind("totp-confirm", (fields) => call("POST", "/api/accounts/me/totp/confirm", fields), async ({ data }) => {
      document.getElementById("totp-setup").hidden = true
      document.getElementById("totp-qr").replaceChildren()
      document.getElementById("totp-secret").textContent = ""
      showRecoveryCodes(data.recoveryCodes)
      await showFactors()
    })
    bind(
      "recovery-regenerate",
      (fields) => call("POST", "/api/accounts/me/recovery-codes", fields),
      ({ data }) => showRecoveryCodes(data.recoveryCodes)
    )
    bind("totp-disable", (fields) => call("DELETE", "/api/accounts/me/totp", fields), async () => {
      document.getElementById("recovery").hidden = true
      await showFactors()
    })

    document.getElementById("passkey-add").hidden = !passkeysSupported()
    await showPasskeys()
    bind(
      "passkey-add",
      ({ name }) =>
        withPasskey(
          "/api/accounts/me/passkeys/options",
          (options) =>
            createPasskey(options).then((response) => call("POST", "/api/accounts/me/passkeys", { name, response }))
        ),
      async (_, status) => {
        show(status, "Passkey added.", true)
        await showPasskeys()
      }
    )
    document.getElementById("passkeys").addEventListener("click", async (event) => {
      const { rename, remove } = event.target.dataset ?? {}
      const status = document.getElementById("passkeys-status")
      let result
      if (rename !== undefined) {
        const name = prompt("New name for this passkey")
        if (name === null) return
        result = await call("PATCH", `/api/accounts/me/passkeys/${encodeURIComponent(rename)}`, { name })
      } else if (remove !== undefined) {
        result = await call("DELETE", `/api/accounts/me/passkeys/${encodeURIComponent(remove)}`)
      } else return
      if (!result.ok) return show(status, explain(result), false)
      show(status, rename !== undefined ? "Passkey renamed." : "Passkey removed.", true)
      await showPasskeys()
    })
  },
  // Loading the page only reads the token: a mail scanner that opens the link (even one that runs scripts) must
  // not confirm the address, so the POST waits for the user's click.
  verify: () => tokenForm("verify", "/api/accounts/verify-email", "Your email address is confirmed. You can sign in."),
  // Like `verify`: loading the page only reads the token, the click sends it.
  "confirm-email": () =>
    tokenForm("confirm-email", "/api/accounts/email-change/confirm", "Your new address is confirmed. Sign in with it."),
  "revert-email": () =>
    tokenForm(
      "revert-email",
      "/api/accounts/email-change/revert",
      "Your old address is back and every device is signed out. Now reset your password."
    ),
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
