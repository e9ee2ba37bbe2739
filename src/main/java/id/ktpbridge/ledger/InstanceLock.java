package id.ktpbridge.ledger;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an instance without cluster mode alone on its PostgreSQL ledger. Such an instance takes
 * every claim in the ledger for its own at start (those of a previous run died with it), so a
 * second instance beside it would release claims still in use and submit their inputs again.
 *
 * <p>Each instance holds a PostgreSQL advisory lock on a connection of its own for as long as it
 * runs: exclusive without cluster mode, shared in cluster mode. PostgreSQL drops the lock with the
 * session, so a killed process frees it at once; the session's TCP keep-alives bound how long a
 * host that vanished keeps it. The lock is per database and schema, so deployments in separate
 * schemas of one database do not meet.
 *
 * <p>The same session also holds an exclusive advisory lock on this instance's id
 * ({@code ktp.cluster.instance-id}): the id names the owner of claims, leases and ledger rows and
 * is Quartz's scheduler id, so two live instances under one id (set in a ConfigMap every replica
 * shares) would take each other's work for their own. Only the lock's session holds it, so the
 * instance's pool cannot be mistaken for another holder, and a killed instance's id is free again
 * as its lock is.
 */
public final class InstanceLock implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceLock.class);
    /** First half of the advisory lock key ("KTPB"); the second is a hash of the schema. */
    static final int KEY_CLASS = 0x4B545042;

    private final String url;
    private final Properties connectionProperties;
    private final String session;
    private final String instance;
    private final boolean cluster;
    private Connection connection;
    /** The server process of the session that last took the lock (0 before the first), and its start. */
    private int ownPid;
    private java.time.OffsetDateTime ownStart;
    private String holders = "";
    /** Whether the last refusal was for the id (another live instance under it), not the mode. */
    private boolean idTaken;

    private InstanceLock(String url, Properties connectionProperties, String session, String instance,
            boolean cluster) {
        this.url = url;
        this.connectionProperties = connectionProperties;
        this.session = session;
        this.instance = instance;
        this.cluster = cluster;
    }

    /**
     * Takes the lock, or fails with a message that says who holds it and what to do.
     *
     * @param instance this instance's id, which no other live instance may hold; shown to one refused beside it
     * @param cluster true for the shared side (cluster mode), false for the exclusive one
     */
    public static InstanceLock take(String url, String user, String password, String instance, boolean cluster)
            throws SQLException {
        // the session's name tells the holder apart: PostgreSQL keeps 63 bytes of it
        String session = ("ktp-scan-bridge " + instance).replaceAll("[^ -~]", "?");
        session = session.substring(0, Math.min(63, session.length()));
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        properties.setProperty("ApplicationName", session);
        // a network that drops packets must not hold a check (or a stop waiting for it) for minutes
        properties.setProperty("connectTimeout", "10");
        properties.setProperty("loginTimeout", "10");
        properties.setProperty("socketTimeout", "30");
        properties.setProperty("tcpKeepAlive", "true");
        InstanceLock lock = new InstanceLock(url, properties, session, instance, cluster);
        // a database still starting gets as long as the connection pool gives it (10 s)
        long giveUpAt = System.currentTimeMillis() + 10_000;
        while (true) {
            try {
                if (!lock.tryTake()) {
                    throw new IllegalStateException(lock.refusal());
                }
                return lock;
            } catch (SQLException e) {
                // 53300: the server has no connection left for now (other replicas, a rolling update)
                boolean notReachable = e.getSQLState() != null && (e.getSQLState().startsWith("08")
                        || e.getSQLState().equals("57P03") || e.getSQLState().equals("53300"));
                if (!notReachable || System.currentTimeMillis() >= giveUpAt) {
                    throw e;
                }
                sleep(500);
            }
        }
    }

    private static void sleep(long millis) throws SQLException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for the database", e);
        }
    }

    /**
     * Checks that the lock is still held; after a lost connection (a database restart, say) it is
     * taken again. Returns false only when another instance took it (or this instance's id)
     * meanwhile, which this one cannot undo: the caller should stop. A database that cannot be
     * reached is an SQLException.
     */
    public synchronized boolean stillHeld() throws SQLException {
        if (connection != null) {
            try {
                if (held()) {
                    return true;
                }
            } catch (SQLException e) {
                LOG.warn("The ledger's instance lock connection was lost ({}); taking the lock again",
                        e.getSQLState());
            }
            closeQuietly();
        }
        if (tryTake()) {
            return true;
        }
        // the server may not have noticed yet that this instance's own earlier session is gone
        if (endOwnEarlierSessions() > 0) {
            throw new SQLException("this instance's earlier session still held the lock; it was ended");
        }
        return false;
    }

    /** What the instance that could not take the lock is told. */
    public synchronized String refusal() {
        if (idTaken) {
            return "Another running instance has this instance's id '" + instance.replaceAll("[^ -~]", "?")
                    + "' on this ledger database (" + where() + holders + "). The id names the owner of claims,"
                    + " leases and ledger rows and the Quartz scheduler, so two instances under one id would take"
                    + " each other's work for their own. Give every instance its own ktp.cluster.instance-id"
                    + " (KTP_CLUSTER_INSTANCE_ID), or leave it unset (host name and a random suffix); on Kubernetes"
                    + " do not set it in a ConfigMap that every replica shares";
        }
        if (cluster) {
            return "An instance without cluster mode is using this ledger database (" + where() + holders + "), and"
                    + " such an instance takes every claim in it for its own. Stop it, or set"
                    + " ktp.cluster.enabled=true (KTP_CLUSTER_ENABLED) on every instance that shares the database";
        }
        return "Another instance is using this ledger database (" + where() + holders + "). Without cluster mode an"
                + " instance takes every claim in the ledger for its own, so two would submit inputs twice. Stop"
                + " the other instance, or set ktp.cluster.enabled=true (KTP_CLUSTER_ENABLED) on every instance"
                + " that shares the database";
    }

    /** The database's URL without its parameters, which may hold a password. */
    private String where() {
        int query = url.indexOf('?');
        return query < 0 ? url : url.substring(0, query);
    }

    /** The session that holds the lock (tests). */
    synchronized Connection session() {
        return connection;
    }

    /** Forgets the session without ending it, as a cut connection leaves it on the server (tests). */
    synchronized Connection detachSession() {
        Connection c = connection;
        connection = null;
        return c;
    }

    /**
     * The server's TCP keep-alives of a session (PostgreSQL): a peer that vanished without closing
     * its connection is noticed within ~30 s (15 s idle, then 3 probes 5 s apart), and its session ended.
     */
    static final String SERVER_KEEPALIVES = "SET tcp_keepalives_idle = 15; SET tcp_keepalives_interval = 5;"
            + " SET tcp_keepalives_count = 3";

    private static final String HOLDERS = "SELECT a.pid, a.application_name, a.client_addr, a.backend_start"
            + " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            + " AND l.classid = ?::int::oid AND l.objid = hashtext(current_schema())::oid AND l.objsubid = 2";

    /**
     * The id's lock: a 64-bit key (the one-number form, apart from the two-number form of the
     * instance lock) hashed from the id, seeded by the schema's hash as the instance lock is keyed.
     */
    private static final String ID_KEY = "hashtextextended(?, hashtext(current_schema()))";

    /** The id's lock as pg_locks shows it (the key's two halves; the id bound twice). */
    private static final String ID_LOCK = "l.objsubid = 1 AND l.classid = (((" + ID_KEY + ") >> 32) & 4294967295)::oid"
            + " AND l.objid = ((" + ID_KEY + ") & 4294967295)::oid";

    /** The sessions holding the id's lock, as HOLDERS names them. */
    private static final String ID_HOLDERS = "SELECT a.pid, a.application_name, a.client_addr, a.backend_start"
            + " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND " + ID_LOCK;

    private boolean tryTake() throws SQLException {
        Connection c = DriverManager.getConnection(url, connectionProperties);
        boolean taken = false;
        try {
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                // the server notices a host that vanished within ~30 s and ends its session (and lock)
                st.execute(SERVER_KEEPALIVES);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT " + (cluster
                    ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock") + "(?, hashtext(current_schema()))")) {
                ps.setInt(1, KEY_CLASS);
                try (ResultSet rs = ps.executeQuery()) {
                    taken = rs.next() && rs.getBoolean(1);
                }
            }
            idTaken = false;
            if (!taken) {
                holders = describeHolders(c, false);
            } else if (!takeId(c)) {
                // this session's shared lock goes with it: the instance does not start
                taken = false;
                idTaken = true;
                holders = describeHolders(c, true);
            } else {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
                    rs.next();
                    ownPid = rs.getInt(1);
                    ownStart = rs.getObject(2, java.time.OffsetDateTime.class);
                }
            }
        } finally {
            if (taken) {
                connection = c;
            } else {
                c.close();
            }
        }
        return taken;
    }

    /** Takes the id's lock on the session that holds the instance lock. */
    private boolean takeId(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(" + ID_KEY + ")")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * ", held by ktp-scan-bridge host-1a2b3c4d" from the holders' session names (and, for the id,
     * their client address: the other instance's pod or host), where they can be read.
     */
    private String describeHolders(Connection c, boolean ofId) throws SQLException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement(ofId ? ID_HOLDERS : HOLDERS)) {
            if (ofId) {
                ps.setString(1, instance);
                ps.setString(2, instance);
            } else {
                ps.setInt(1, KEY_CLASS);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(2);
                    String from = rs.getString(3);
                    names.add((name == null || name.isBlank() ? "a session without a name" : name)
                            + (ofId && from != null ? " from " + from : ""));
                }
            }
        }
        return names.isEmpty() ? "" : ", held by " + String.join(", ", names);
    }

    /**
     * Ends this instance's earlier session (its process id, start and name) if it still holds the
     * lock or the id's lock; returns how many. Its start tells it from another instance's session
     * that got the same process id since, under the same id too.
     */
    private int endOwnEarlierSessions() throws SQLException {
        if (ownPid == 0) {
            return 0;
        }
        int ended = 0;
        try (Connection c = DriverManager.getConnection(url, connectionProperties);
             PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM (" + HOLDERS
                     + " UNION " + ID_HOLDERS + ") h WHERE h.pid = ? AND h.backend_start = ?"
                     + " AND h.application_name = ? AND h.pid <> pg_backend_pid()")) {
            ps.setInt(1, KEY_CLASS);
            ps.setString(2, instance);
            ps.setString(3, instance);
            ps.setInt(4, ownPid);
            ps.setObject(5, ownStart);
            ps.setString(6, session);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ended += rs.getBoolean(1) ? 1 : 0;
                }
            }
        }
        return ended;
    }

    /** Whether this session holds the lock (granted, of the side asked for) and the id's lock. */
    private boolean held() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT count(*) FROM pg_locks l"
                + " WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.granted"
                + " AND (l.classid = ?::int::oid AND l.objid = hashtext(current_schema())::oid AND l.objsubid = 2"
                + " OR " + ID_LOCK + ")")) {
            ps.setInt(1, KEY_CLASS);
            ps.setString(2, instance);
            ps.setString(3, instance);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == 2;
            }
        }
    }

    private void closeQuietly() {
        try {
            connection.close();
        } catch (SQLException e) {
            // already gone with its session
        }
        connection = null;
    }

    /**
     * Lets the lock go. It is released on its session before that is closed: the server drops a
     * closed session's locks only when its process ends, a moment later, and an instance started
     * right after this one stops (a restart) would be refused meanwhile.
     */
    @Override
    public synchronized void close() {
        if (connection != null) {
            try (Statement st = connection.createStatement()) {
                // a stop does not wait long on a database that no longer answers
                connection.setNetworkTimeout(Runnable::run, 3_000);
                st.execute("SELECT pg_advisory_unlock_all()");
            } catch (SQLException e) {
                // a lost session has no lock left to release
            }
            closeQuietly();
        }
    }
}
