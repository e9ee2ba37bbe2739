package id.ktpbridge.ledger;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Logger;

import javax.sql.DataSource;

/**
 * Keeps H2's explicit checkpoints apart from statements in progress. A {@code CHECKPOINT} that
 * runs while another session is half-way through a statement can persist a table change without
 * its index change: after a killed process the ledger's indexes then miss rows, or point at rows
 * that are gone ({@code Row "..." not found in primary index}), and queries by state go wrong
 * (seen with H2 2.3.232 under concurrent writes and {@code kill -9}, with any {@code RETENTION_TIME}).
 * H2's own background writer can write such a state too, less often, which no gate around the
 * bundle's statements can keep apart: a file left so is rebuilt at the next start ({@link H2UncleanStop}).
 *
 * <p>Every statement takes the gate's read side for its run; inside a transaction it keeps it
 * until the commit or rollback (a thread re-entering the read side is never blocked by a waiting
 * checkpoint, so a transaction cannot wait on a checkpoint that waits on it). The checkpoint takes
 * the write side: it runs when no statement is.
 *
 * <p>Every statement and commit also runs with the thread's interrupt flag down ({@link #shielded}).
 *
 * <p>A connection's transaction must end on the thread that began it, as with every pooled
 * connection in the bundle (one thread at a time). {@code unwrap} hands out the connection
 * outside the gate.
 */
final class CheckpointGate implements DataSource {

    /** How long a checkpoint waits for the statements and transactions in progress to end. */
    static final long CHECKPOINT_WAIT_SECONDS = 60;

    private final DataSource target;
    private final ClosedDatabaseEviction eviction;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Connections handed out (and the checkpoint's own) not closed yet: the database is open while any is. */
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

    CheckpointGate(DataSource target) {
        this(target, null);
    }

    /** @param eviction the pool's, told when H2 closed the database under it; null for none */
    CheckpointGate(DataSource target, ClosedDatabaseEviction eviction) {
        this.target = target;
        this.eviction = eviction;
    }

    /** Runs {@code listener} each time the pool finds the database closed ({@link ClosedDatabaseEviction}). */
    void onClosure(Runnable listener) {
        if (eviction != null) {
            eviction.onClosure(listener);
        }
    }

    /** Refuses a flush from a thread in an open ledger transaction: it would wait for itself. */
    void requireNoOpenTransaction() {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("a ledger flush inside an open ledger transaction");
        }
    }

    /** Runs {@code checkpoint} while no statement is in progress, on a connection outside the gate. */
    void checkpoint(SqlWork checkpoint) throws SQLException {
        requireNoOpenTransaction();
        // the connection first: once the write side is held, statements that already have one wait
        // at the gate, and the pool could have none left to give
        open.incrementAndGet();
        try (Connection c = target.getConnection()) {
            boolean locked;
            try {
                locked = lock.writeLock().tryLock(CHECKPOINT_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting to flush the ledger", e);
            }
            if (!locked) {
                throw new SQLException("a ledger statement or transaction has been in progress for more than "
                        + CHECKPOINT_WAIT_SECONDS + " s: the ledger cannot be flushed");
            }
            try {
                checkpoint.run(c);
            } finally {
                lock.writeLock().unlock();
            }
        } finally {
            open.decrementAndGet();
        }
    }

    /** Connections of the gate's not closed yet (0 once its pool closed them all). */
    int openConnections() {
        return open.get();
    }

    @FunctionalInterface
    interface SqlWork {
        void run(Connection connection) throws SQLException;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return gated(target.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return gated(target.getConnection(username, password));
    }

    private Connection gated(Connection connection) {
        open.incrementAndGet();
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, new GatedConnection(connection));
    }

    /** The read side held by one connection: per statement, or from a transaction's first statement to its end. */
    private final class GatedConnection implements InvocationHandler {

        private final Connection connection;
        private boolean inTransaction;
        private boolean closed;

        GatedConnection(Connection connection) {
            this.connection = connection;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "commit", "close", "abort" -> {
                    try {
                        return shielded(connection, method, args);
                    } finally {
                        endTransaction();
                        if (!"commit".equals(name) && !closed) {
                            closed = true;
                            open.decrementAndGet();
                        }
                    }
                }
                case "rollback" -> {
                    try {
                        return shielded(connection, method, args);
                    } finally {
                        if (args == null || args.length == 0) { // a rollback to a savepoint goes on
                            endTransaction();
                        }
                    }
                }
                case "setAutoCommit" -> {
                    try {
                        return shielded(connection, method, args);
                    } finally {
                        if (Boolean.TRUE.equals(args[0])) { // commits an open transaction
                            endTransaction();
                        }
                    }
                }
                case "unwrap", "isWrapperFor" -> {
                    return call(connection, method, args);
                }
                default -> {
                    Object result = call(connection, method, args);
                    if (result instanceof CallableStatement s) {
                        return statement(s, CallableStatement.class, proxy);
                    }
                    if (result instanceof PreparedStatement s) {
                        return statement(s, PreparedStatement.class, proxy);
                    }
                    if (result instanceof Statement s) {
                        return statement(s, Statement.class, proxy);
                    }
                    return result;
                }
            }
        }

        private Object statement(Statement statement, Class<? extends Statement> type, Object connectionProxy) {
            return Proxy.newProxyInstance(Statement.class.getClassLoader(), new Class<?>[] {type},
                    (proxy, method, args) -> {
                        switch (method.getName()) {
                            case "equals" -> {
                                return proxy == args[0];
                            }
                            case "hashCode" -> {
                                return System.identityHashCode(proxy);
                            }
                            case "getConnection" -> {
                                return connectionProxy;
                            }
                            default -> {
                                // below
                            }
                        }
                        if (!method.getName().startsWith("execute")) {
                            return call(statement, method, args);
                        }
                        boolean perStatement = connection.getAutoCommit();
                        if (perStatement) {
                            lock.readLock().lock();
                        } else if (!inTransaction) {
                            lock.readLock().lock();
                            inTransaction = true;
                        }
                        try {
                            return shielded(statement, method, args);
                        } finally {
                            if (perStatement) {
                                lock.readLock().unlock();
                            }
                        }
                    });
        }

        private void endTransaction() {
            if (inTransaction) {
                inTransaction = false;
                lock.readLock().unlock();
            }
        }
    }

    /**
     * Runs an H2 call with the thread's interrupt flag down, and raises it again after. H2's MVStore
     * gives up a statement, or a commit half-way through, when an interrupted thread has to wait
     * for a map lock ({@code InterruptedException: sleep interrupted}); a stop that runs out of time
     * interrupts threads that still have ledger writes to make, and those writes must not fail for
     * it. An interrupt that arrives while the call runs is not covered.
     */
    private static Object shielded(Object target, Method method, Object[] args) throws Throwable {
        boolean interrupted = Thread.interrupted();
        try {
            return call(target, method, args);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return target.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        target.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        target.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return target.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger(Logger.GLOBAL_LOGGER_NAME);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : target.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || target.isWrapperFor(iface);
    }
}
