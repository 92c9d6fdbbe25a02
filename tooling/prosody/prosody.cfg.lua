-- Prosody 0.12 (Debian bookworm) config for Vouch's loopback integration tests and demo.
-- Adapted from the project's reference config; `startProsody()` (src/index.ts) copies it into a
-- fresh temporary directory and starts `prosody -F --config <that copy>` with the env below.
-- All paths come from the environment so the file holds no machine paths:
--   PROSODY_TEST_DIR   scratch dir (data, pid, log, certs)   [required]
--   PROSODY_C2S_PORT   client port on 127.0.0.1              [default 15222]
--   PROSODY_HTTP_PORT  BOSH/WebSocket port on 127.0.0.1      [default 15280]
--   PROSODY_TLS        "1" to offer STARTTLS with certs in $PROSODY_TEST_DIR/certs
-- (Prosody 0.12's config sandbox maps ENV_X to os.getenv("X"); other Lua globals pass through)
local dir = ENV_PROSODY_TEST_DIR or error("PROSODY_TEST_DIR not set")
local c2s_port = tonumber(ENV_PROSODY_C2S_PORT or "15222")
local http_port = tonumber(ENV_PROSODY_HTTP_PORT or "15280")
local use_tls = ENV_PROSODY_TLS == "1"

run_as_root = true          -- CI runs as root; harmless for a normal user
pidfile = dir .. "/prosody.pid"
data_path = dir .. "/data"
admin_socket = dir .. "/prosody.sock"
log = {
  { levels = { min = ENV_PROSODY_LOG_LEVEL or "info" }, to = "file", filename = dir .. "/prosody.log" };
}

-- Network: loopback only, no s2s, no component or legacy TLS ports
interfaces = { "127.0.0.1" }
c2s_ports = { c2s_port }
c2s_interfaces = { "127.0.0.1" }
legacy_ssl_ports = { }
s2s_ports = { }
component_ports = { }
http_ports = { http_port }
http_interfaces = { "127.0.0.1" }
https_ports = { }
https_interfaces = { }
http_default_host = "localhost"
consider_bosh_secure = true
consider_websocket_secure = true

modules_enabled = {
  "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix";
  "private"; "vcard4"; "vcard_legacy"; "blocklist"; "version"; "time"; "uptime";
  "register";        -- XEP-0077 in-band registration (mod_register_ibr + limits)
  "carbons";         -- XEP-0280
  "mam";             -- XEP-0313
  "pep";             -- XEP-0163 (publish-options incl. pubsub#access_model)
  "smacks";          -- XEP-0198
  "csi_simple";
  "offline";
  "bosh";            -- XEP-0206 at http://127.0.0.1:PORT/http-bind
  "websocket";       -- RFC 7395 at ws://127.0.0.1:PORT/xmpp-websocket
  "admin_shell";
}
-- Without TLS, mod_tls must be off: with no usable cert it still advertises STARTTLS
-- and the handshake then fails (@xmpp/client always takes STARTTLS when offered).
modules_disabled = use_tls and { "s2s" } or { "s2s", "tls" }

authentication = "internal_hashed"
-- @xmpp/client does SCRAM-SHA-1 PBKDF2 in pure JS: 10000 rounds (the default) cost ~0.6 s per login
default_iteration_count = 4096
storage = "internal"

allow_registration = true
min_seconds_between_registrations = 0
registration_whitelist = { "127.0.0.1", "::1" }

-- XEP-0198: keep a dropped session resumable for a while (the tests resume within seconds)
smacks_hibernation_time = 120

-- MAM: archive everything by default, keep for a week
default_archive_policy = true
archive_expires_after = "1w"
max_archive_query_results = 100

certificates = dir .. "/certs"     -- TLS mode expects certs/localhost.crt + certs/localhost.key
if use_tls then
  c2s_require_encryption = false   -- STARTTLS offered, not required
else
  c2s_require_encryption = false
  allow_unencrypted_plain_auth = true
  ssl = { }                        -- no certificate: STARTTLS is not offered
end

VirtualHost "localhost"
