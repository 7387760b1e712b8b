// The lab server's part of `marrowcount --help` (apart from server.ts so that args.ts need not import the server).
export const SERVER_USAGE = `  marrowcount server --tls-cert <file> --tls-key <file> --data <folder> [options]
                                           the lab server: the API and the app over HTTPS to the lab's stations
      --listen <host:port>   where to listen (default 127.0.0.1:8443; 0.0.0.0:8443 for the whole network)
      --db <file or URL>     the database: a SQLite file or a postgres:// URL (default: env
                             MARROWCOUNT_DATABASE_URL, else <data>/marrowcount.sqlite)
      --data <folder>        reports, LIS outbox and uploaded cases
      --cases-root <folder>  case folders named by stations must lie under it (without it: uploads only)
      --model <dir>          model package (default: the bundled one; env MARROWCOUNT_MODEL_DIR)
  marrowcount server init-tls --out <folder> [--name <host name or address>]...
                                           a self-signed certificate for trials (uses openssl); prints its fingerprint`;
