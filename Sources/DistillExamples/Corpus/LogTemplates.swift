
/// The message templates of the log corpus generator: 14 sources, 8 labels, paraphrase families.
///
/// Labels (the taxonomy): `normal` routine operation; `database` database errors (connections, queries, locks,
/// replication); `network` connectivity, DNS, TLS, timeouts between services; `auth` authentication and
/// authorization failures and security events; `storage` disks, filesystems, volumes, I/O; `memory` memory and
/// other resource exhaustion (OOM, CPU throttling, file descriptors); `application` application errors and
/// crashes (exceptions, panics, failed requests); `configuration` invalid or missing configuration.
///
/// `family` groups templates that say the same thing in other words ("database timeout" / "DB connection
/// failure"); held-out splits keep whole templates out of training, so a family's other wordings are what a
/// model has to generalize from.
public struct LogTemplate: Sendable {
    public let source: String
    public let label: String
    public let family: Int
    public let text: String
}

public enum LogTaxonomy {
    public static let labels = ["normal", "database", "network", "auth", "storage", "memory", "application", "configuration"]
    /// One line per label, as the documentation above and as LLM teachers are told.
    public static let descriptions: [String: String] = [
        "normal": "routine operation", "database": "database errors (connections, queries, locks, replication)",
        "network": "connectivity, DNS, TLS, timeouts between services", "auth": "authentication and authorization failures, security events",
        "storage": "disks, filesystems, volumes, I/O errors", "memory": "memory and other resource exhaustion (OOM, CPU throttling, file descriptors)",
        "application": "application errors and crashes (exceptions, panics, failed requests)", "configuration": "invalid or missing configuration",
    ]
}

let logTemplates: [LogTemplate] = {
    var out: [LogTemplate] = []
    func add(_ source: String, _ label: String, _ family: Int, _ texts: [String]) {
        for t in texts { out.append(LogTemplate(source: source, label: label, family: family, text: t)) }
    }
    // kubelet / Kubernetes events
    add("kubelet", "normal", 1, ["Successfully pulled image \"{image}\" in {ms}", "Started container {word}", "Created pod: {pod}",
                                  "Successfully assigned {ns}/{pod} to {node}", "Pod sandbox changed, it will be killed and re-created"])
    add("kubelet", "application", 2, ["Back-off restarting failed container {word} in pod {pod}", "Container {word} in pod {pod} is in CrashLoopBackOff",
                                       "container {word} exited with code {code}, restarting"])
    add("kubelet", "network", 3, ["Readiness probe failed: Get \"http://{ip}:{port}/healthz\": context deadline exceeded",
                                   "Liveness probe failed: dial tcp {ip}:{port}: connect: connection refused"])
    add("kubelet", "memory", 4, ["OOMKilled: container {word} in pod {pod} exceeded memory limit {size}",
                                  "Evicted pod {pod}: The node was low on resource: memory", "Memory cgroup out of memory: Killed process {pid} ({word})"])
    add("kubelet", "storage", 5, ["MountVolume.SetUp failed for volume \"{word}\": mount failed: exit status 32",
                                   "Failed to provision volume with StorageClass \"{word}\": timeout", "disk pressure on node {node}: {n}% used"])
    add("kubelet", "configuration", 6, ["Error: couldn't find key {word} in ConfigMap {ns}/{word}", "invalid value for env var {env}: {word}",
                                         "Failed to pull image \"{image}\": manifest unknown"])
    // nginx access + error
    add("nginx", "normal", 7, ["\"GET {path} HTTP/1.1\" 200 {n}", "\"POST {path} HTTP/1.1\" 201 {n}", "\"GET {path} HTTP/2.0\" 304 0"])
    add("nginx", "network", 8, ["upstream timed out (110: Connection timed out) while reading response header from upstream, upstream: \"http://{ip}:{port}{path}\"",
                                 "connect() failed (111: Connection refused) while connecting to upstream, upstream: \"http://{ip}:{port}\"",
                                 "no live upstreams while connecting to upstream \"{svc}\""])
    add("nginx", "application", 9, ["\"GET {path} HTTP/1.1\" 500 {n}", "\"POST {path} HTTP/1.1\" 502 {n}", "\"GET {path} HTTP/1.1\" 503 {n}"])
    add("nginx", "auth", 10, ["\"POST /login HTTP/1.1\" 401 {n}", "\"GET /admin{path} HTTP/1.1\" 403 {n}", "access forbidden by rule, client: {ip}"])
    add("nginx", "configuration", 11, ["unknown directive \"{word}\" in /etc/nginx/conf.d/{word}.conf:{n}", "\"ssl_certificate\" is defined for the \"listen ... ssl\" directive in {path}:{n}"])
    // PostgreSQL
    add("postgres", "database", 12, ["FATAL:  remaining connection slots are reserved for non-replication superuser connections",
                                      "FATAL:  sorry, too many clients already", "could not connect to server: Connection refused on {ip}:5432"])
    add("postgres", "database", 13, ["ERROR:  deadlock detected", "ERROR:  could not serialize access due to concurrent update",
                                      "ERROR:  canceling statement due to lock timeout", "process {pid} still waiting for ShareLock on transaction {n} after {ms}"])
    add("postgres", "database", 14, ["ERROR:  canceling statement due to statement timeout", "duration: {ms}  statement: SELECT * FROM {table} WHERE id = {n}"])
    add("postgres", "normal", 15, ["checkpoint complete: wrote {n} buffers ({pct}); 0 WAL file(s) added", "database system is ready to accept connections",
                                    "autovacuum: processing database \"{db}\""])
    add("postgres", "storage", 16, ["could not write to file \"pg_wal/xlogtemp.{pid}\": No space left on device", "PANIC:  could not fsync file \"{path}\": Input/output error"])
    add("postgres", "auth", 17, ["FATAL:  password authentication failed for user \"{user}\"", "FATAL:  no pg_hba.conf entry for host \"{ip}\", user \"{user}\", database \"{db}\""])
    // MySQL
    add("mysql", "database", 12, ["Too many connections", "[ERROR] Aborted connection {n} to db: '{db}' user: '{user}' host: '{ip}' (Got timeout reading communication packets)"])
    add("mysql", "database", 13, ["[ERROR] InnoDB: Deadlock found when trying to get lock; try restarting transaction", "Lock wait timeout exceeded; try restarting transaction"])
    add("mysql", "normal", 15, ["[Note] Server socket created on IP: '{ip}'.", "[Note] InnoDB: Buffer pool(s) load completed", "[Note] Event Scheduler: Loaded {n} events"])
    add("mysql", "auth", 17, ["[Warning] Access denied for user '{user}'@'{ip}' (using password: YES)", "[ERROR] Host '{ip}' is blocked because of many connection errors"])
    add("mysql", "database", 18, ["[ERROR] Slave SQL: Error 'Duplicate entry '{n}' for key 'PRIMARY'' on query, Error_code: 1062", "[Warning] Slave I/O: reconnecting to master '{host}:3306', retry {n}"])
    add("mysql", "configuration", 19, ["[ERROR] unknown variable '{word}={n}'", "[ERROR] Fatal error: Please read \"Security\" section of the manual to find out how to run mysqld as root!"])
    // Redis
    add("redis", "normal", 20, ["DB saved on disk", "Background saving terminated with success", "Ready to accept connections", "{n} changes in {n} seconds. Saving..."])
    add("redis", "memory", 21, ["OOM command not allowed when used memory > 'maxmemory'", "WARNING: Memory overcommit must be enabled!", "Can't save in background: fork: Cannot allocate memory"])
    add("redis", "storage", 22, ["MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk", "Write error saving DB on disk: No space left on device"])
    add("redis", "network", 23, ["Connection with master lost.", "Error condition on socket for SYNC: Connection refused", "Timeout connecting to the MASTER..."])
    add("redis", "auth", 24, ["NOAUTH Authentication required.", "WRONGPASS invalid username-password pair or user is disabled."])
    // Kafka
    add("kafka", "normal", 25, ["[GroupCoordinator {n}]: Stabilized group {word} generation {n}", "Rolled new log segment for '{topic}-{n}' in {ms}", "[Log partition={topic}-{n}] Loading producer state till offset {n}"])
    add("kafka", "network", 26, ["[ReplicaFetcher replicaId={n}, leaderId={n}] Error in response for fetch request: java.net.SocketTimeoutException",
                                  "Connection to node {n} ({host}/{ip}:9092) could not be established. Broker may not be available."])
    add("kafka", "application", 27, ["[Producer clientId={word}] Got error produce response with correlation id {n} on topic-partition {topic}-{n}, retrying",
                                      "Error processing fetch with max size {n} from consumer on partition {topic}-{n}"])
    add("kafka", "storage", 28, ["Error while writing to checkpoint file {path}", "Shutdown broker because all log dirs in {path} have failed"])
    add("kafka", "configuration", 29, ["Invalid value {word} for configuration {word}.ms: Not a number of type LONG", "Missing required configuration \"bootstrap.servers\" which has no default value."])
    // JVM applications
    add("jvm", "application", 30, ["java.lang.NullPointerException: Cannot invoke \"{class}.get()\" because \"{word}\" is null",
                                    "java.lang.IllegalStateException: {word} already closed", "java.lang.IndexOutOfBoundsException: Index {n} out of bounds for length {n}"])
    add("jvm", "memory", 31, ["java.lang.OutOfMemoryError: Java heap space", "java.lang.OutOfMemoryError: GC overhead limit exceeded", "java.lang.OutOfMemoryError: Metaspace"])
    add("jvm", "database", 32, ["org.postgresql.util.PSQLException: Connection to {host}:5432 refused.", "com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool: Connection is not available, request timed out after {ms}.",
                                 "java.sql.SQLTransientConnectionException: {word} - Connection is not available, request timed out after {ms}."])
    add("jvm", "network", 33, ["java.net.ConnectException: Connection refused (Connection refused)", "java.net.SocketTimeoutException: Read timed out",
                                "javax.net.ssl.SSLHandshakeException: PKIX path building failed"])
    add("jvm", "normal", 34, ["Started {class} in {n}.{n} seconds (JVM running for {n}.{n})", "Tomcat started on port(s): {port} (http)", "Completed initialization in {ms}"])
    add("jvm", "configuration", 35, ["Failed to bind properties under '{word}.{word}' to java.lang.Integer", "Could not resolve placeholder '{env}' in value \"${{env}}\""])
    // Python services
    add("python", "application", 36, ["Traceback (most recent call last): KeyError: '{word}'", "ValueError: invalid literal for int() with base 10: '{word}'",
                                       "TypeError: 'NoneType' object is not subscriptable", "AttributeError: '{class}' object has no attribute '{word}'"])
    add("python", "database", 37, ["sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server: Connection refused",
                                    "django.db.utils.OperationalError: database is locked", "pymongo.errors.ServerSelectionTimeoutError: {host}:27017: timed out"])
    add("python", "network", 38, ["requests.exceptions.ConnectionError: HTTPConnectionPool(host='{host}', port={port}): Max retries exceeded",
                                   "urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='{host}', port=443): Read timed out. (read timeout={n})"])
    add("python", "normal", 39, ["INFO:uvicorn.access:{ip}:{port} - \"GET {path} HTTP/1.1\" 200", "Worker {pid} booted", "Application startup complete."])
    add("python", "memory", 40, ["MemoryError: Unable to allocate {size} for an array with shape ({n}, {n})", "worker {pid} was sent SIGKILL! Perhaps out of memory?"])
    add("python", "configuration", 41, ["KeyError: 'DATABASE_URL' environment variable is not set", "pydantic.error_wrappers.ValidationError: 1 validation error for Settings {word}"])
    // sshd / PAM
    add("sshd", "auth", 42, ["Failed password for {user} from {ip} port {port} ssh2", "Failed password for invalid user {user} from {ip} port {port} ssh2",
                              "Invalid user {user} from {ip} port {port}", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}"])
    add("sshd", "auth", 43, ["error: maximum authentication attempts exceeded for {user} from {ip} port {port} ssh2", "Disconnecting invalid user {user} {ip} port {port}: Too many authentication failures"])
    add("sshd", "normal", 44, ["Accepted publickey for {user} from {ip} port {port} ssh2: RSA SHA256:{hex}", "pam_unix(sshd:session): session opened for user {user} by (uid=0)",
                                "Received disconnect from {ip} port {port}:11: disconnected by user"])
    add("sshd", "configuration", 45, ["error: Could not load host key: /etc/ssh/ssh_host_{word}_key", "Bad configuration option: {word}"])
    // kernel
    add("kernel", "memory", 46, ["Out of memory: Killed process {pid} ({word}) total-vm:{n}kB, anon-rss:{n}kB", "{word} invoked oom-killer: gfp_mask=0x{hex}, order=0, oom_score_adj=0",
                                  "Memory cgroup out of memory: Killed process {pid} ({word})"])
    add("kernel", "storage", 47, ["blk_update_request: I/O error, dev {dev}, sector {n} op 0x0:(READ)", "EXT4-fs error (device {dev}): ext4_find_entry:{n}: inode #{n}: comm {word}: reading directory lblock 0",
                                   "Buffer I/O error on dev {dev}, logical block {n}, async page read", "XFS ({dev}): Corruption detected. Unmount and run xfs_repair"])
    add("kernel", "network", 48, ["{nic}: Link is Down", "nf_conntrack: table full, dropping packet", "TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies."])
    add("kernel", "normal", 49, ["{nic}: Link is Up - 10Gbps Full Duplex", "EXT4-fs ({dev}): mounted filesystem with ordered data mode"])
    add("kernel", "memory", 50, ["watchdog: BUG: soft lockup - CPU#{n} stuck for {n}s! [{word}:{pid}]", "VFS: file-max limit {n} reached"])
    // systemd
    add("systemd", "normal", 51, ["Started {svc}.service - {word} daemon.", "Reached target Multi-User System.", "Stopping {svc}.service...", "{svc}.service: Deactivated successfully."])
    add("systemd", "application", 52, ["{svc}.service: Main process exited, code=exited, status=1/FAILURE", "{svc}.service: Failed with result 'exit-code'.",
                                        "{svc}.service: Scheduled restart job, restart counter is at {n}."])
    add("systemd", "configuration", 53, ["/etc/systemd/system/{svc}.service:{n}: Unknown key name '{word}' in section 'Service', ignoring.", "{svc}.service: Failed to load environment files: No such file or directory"])
    add("systemd", "memory", 54, ["{svc}.service: A process of this unit has been killed by the OOM killer.", "{svc}.service: Failed with result 'oom-kill'."])
    // CoreDNS
    add("coredns", "network", 55, ["[ERROR] plugin/errors: 2 {host}. A: read udp {ip}:{port}->{ip}:53: i/o timeout", "[ERROR] plugin/errors: 2 {host}. AAAA: dial udp {ip}:53: connect: network is unreachable"])
    add("coredns", "normal", 56, ["[INFO] {ip}:{port} - {n} \"A IN {host}. udp {n} false 512\" NOERROR qr,aa,rd {n} {ms}", "[INFO] Reloading complete", "CoreDNS-1.11.1"])
    add("coredns", "configuration", 57, ["[ERROR] Restart failed: plugin/forward: not an IP address or file: \"{word}\"", "[WARNING] plugin/kubernetes: starting server with unsynced Kubernetes API"])
    // Envoy
    add("envoy", "network", 58, ["upstream connect error or disconnect/reset before headers. reset reason: connection failure", "[upstream] health check failed for host {ip}:{port}",
                                  "[conn_handler] TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED"])
    add("envoy", "normal", 59, ["[main] all clusters initialized. initializing init manager", "[upstream] cds: add {n} cluster(s), remove {n} cluster(s)",
                                 "\"GET {path} HTTP/1.1\" 200 - 0 {n} {n} {n} \"{ip}\""])
    add("envoy", "application", 60, ["\"GET {path} HTTP/1.1\" 503 UF {n} {n} {n} - \"{ip}\"", "[router] no healthy upstream for cluster {svc}"])
    add("envoy", "auth", 61, ["[jwt] Jwt verification fails: Jwt is expired", "[rbac] enforced denied, matched policy none", "\"GET {path} HTTP/1.1\" 403 - rbac_access_denied"])
    add("envoy", "memory", 62, ["[overload] overload action envoy.overload_actions.stop_accepting_requests triggered (heap {pct})", "heap size {size} exceeds max_heap_size_bytes"])
    // Paraphrase families across sources: the same event, other words.
    add("app", "database", 63, ["Database timeout while executing query on {table}", "DB connection failure: timed out after {ms}", "query on {table} took too long, gave up after {ms}",
                                 "could not reach the database, retrying in {ms}", "database unavailable: connection pool exhausted"])
    add("app", "network", 64, ["request to {svc} timed out after {ms}", "call to {svc} failed: connection reset by peer", "{svc} unreachable: no route to host {ip}",
                                "TLS handshake with {host} failed: certificate expired"])
    add("app", "auth", 65, ["login failed for {user}: bad credentials", "token rejected for {user}: signature invalid", "user {user} is not allowed to {word} {path}",
                             "session {uuid} expired, re-authentication required"])
    add("app", "storage", 66, ["cannot write {path}: disk full", "volume {word} is {n}% full", "failed to persist upload {uuid}: no space left", "read-only file system, cannot save {path}"])
    add("app", "memory", 67, ["heap usage {pct}, above threshold", "worker {pid} exceeded memory limit {size}, recycling", "too many open files while accepting connection", "CPU throttled for {ms} in the last period"])
    add("app", "application", 68, ["unhandled exception in {class}.{word}: {word} is undefined", "panic: runtime error: invalid memory address or nil pointer dereference",
                                    "request {uuid} failed with status 500", "job {word} crashed after {n} attempts"])
    add("app", "configuration", 69, ["missing required setting {env}", "config file {path} is not valid YAML: line {n}", "feature flag {word} has an invalid value \"{word}\"",
                                      "unknown option --{word}, see --help"])
    add("app", "normal", 70, ["request {uuid} completed in {ms}", "cache warmed with {n} entries", "health check passed", "processed {n} events from {topic}", "user {user} signed in"])
    return out
}()
