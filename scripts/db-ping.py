"""Exit 0 when the database named by the URL in argv[1] accepts a connection."""

import sys

import dj_database_url
import MySQLdb

cfg = dj_database_url.parse(sys.argv[1])
try:
    MySQLdb.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=int(cfg["PORT"] or 3306),
        user=cfg["USER"],
        password=cfg["PASSWORD"],
        connect_timeout=5,
    ).close()
except MySQLdb.Error as err:
    print(f"cannot connect to {cfg['HOST']}:{cfg['PORT']}: {err}", file=sys.stderr)
    sys.exit(1)
