# Shared by the bench scripts (sourced): wait for the server, sign the benchmark admin in.

# Waits until $BASE/healthz answers (up to TRIES × 0.2 s).
await_server() { # tries
  for _ in $(seq 1 "$1"); do curl -fs "$BASE/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start" >&2
  return 1
}

# Signs bench@example.com in through the login form, keeping the cookies in the jar $JAR; leaves
# the login form's CSRF token in $TOKEN (valid with the jar's hr_form cookie, for scripted logins).
sign_in_bench_admin() {
  TOKEN=$(curl -fs -c "$JAR" -b "$JAR" "$BASE/login" |
    grep -o 'name="csrf_token" value="[^"]*"' | tail -n1 | sed 's/.*value="//; s/"$//')
  curl -fs -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "email=bench@example.com" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "csrf_token=$TOKEN" "$BASE/login"
}
