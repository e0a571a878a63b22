"""Fills a benchmark database with 10 000 users and 100 000 live sessions (run by bench/run.sh)."""
import subprocess
import sys
import time

backend, target = sys.argv[1], sys.argv[2]
now = int(time.time())
users = 10_000
sessions = 100_000
# A valid argon2id PHC string that nobody's password matches; these users never sign in.
dummy_hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Xb3xHjDnHZGp4y5R2ZpQ0yL0b8tqg2hRrb0cQm3Jr8"

if backend == "sqlite":
    import sqlite3

    db = sqlite3.connect(target, timeout=30)
    db.execute("PRAGMA busy_timeout = 30000")
    db.executemany(
        "INSERT INTO users (email, name, password_hash, role, disabled, created_at, password_changed_at) "
        "VALUES (?, ?, ?, 'employee', 0, ?, ?)",
        ((f"user{i}@bench.example", f"User {i}", dummy_hash, now, now) for i in range(users)),
    )
    first_id = db.execute("SELECT MIN(id) FROM users WHERE email LIKE '%@bench.example'").fetchone()[0]
    db.executemany(
        "INSERT INTO sessions (token_hash, handle, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, csrf_secret) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, '10.1.2.3', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'x')",
        (
            (f"bench-hash-{i}", f"bench-handle-{i}", first_id + i % users, now - 600, now - (i % 900), now + 40_000)
            for i in range(sessions)
        ),
    )
    db.commit()
    # Fold the bulk insert back into the database file, as SQLite's automatic checkpoints would
    # over time; otherwise every read in the next measurement searches a 100 000-row WAL.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
else:
    sql = f"""
    INSERT INTO users (email, name, password_hash, role, disabled, created_at, password_changed_at)
      SELECT 'user' || g || '@bench.example', 'User ' || g, '{dummy_hash}', 'employee', 0, {now}, {now}
      FROM generate_series(0, {users - 1}) g;
    INSERT INTO sessions (token_hash, handle, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, csrf_secret)
      SELECT 'bench-hash-' || g, 'bench-handle-' || g,
             (SELECT MIN(id) FROM users WHERE email LIKE '%@bench.example') + g % {users},
             {now} - 600, {now} - g % 900, {now} + 40000, 0, '10.1.2.3',
             'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'x'
      FROM generate_series(0, {sessions - 1}) g;
    ANALYZE;
    """
    subprocess.run(["psql", target, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)
