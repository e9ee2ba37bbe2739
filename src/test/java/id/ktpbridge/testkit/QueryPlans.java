package id.ktpbridge.testkit;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.sql.DataSource;

/**
 * A data source whose prepared statements have the database explain them (H2's and PostgreSQL's
 * {@code EXPLAIN}, with the same parameters, on the same connection) before they run: a test calls
 * the code under test and looks at how its statements were read, through which index or by a scan
 * of the whole table. Plans are only read: nothing is run twice.
 */
public final class QueryPlans {

    /** A statement run and its plan. */
    public record Plan(String sql, String plan) {

        /** Whether the plan reads the index {@code name} (case-insensitive). */
        public boolean reads(String name) {
            return plan.toLowerCase(Locale.ROOT).contains(name.toLowerCase(Locale.ROOT));
        }

        /** Whether the plan reads some table row by row: H2's tableScan, PostgreSQL's Seq Scan. */
        public boolean scansATable() {
            String p = plan.toLowerCase(Locale.ROOT);
            return p.contains("tablescan") || p.contains("seq scan");
        }

        @Override
        public String toString() {
            return sql + "\n" + plan;
        }
    }

    private final DataSource target;
    private final List<Plan> plans = new CopyOnWriteArrayList<>();

    public QueryPlans(DataSource target) {
        this.target = target;
    }

    /** The data source to hand the code under test. */
    public DataSource dataSource() {
        return proxy(DataSource.class, (p, m, args) -> {
            Object result = invoke(target, m, args);
            return result instanceof Connection c ? connection(c) : result;
        });
    }

    /** The plans of the statements run since the last call, oldest first. */
    public List<Plan> take() {
        List<Plan> taken = new ArrayList<>(plans);
        plans.removeAll(taken);
        return taken;
    }

    private Connection connection(Connection c) {
        return proxy(Connection.class, (p, m, args) -> {
            Object result = invoke(c, m, args);
            if (result instanceof PreparedStatement ps && m.getName().equals("prepareStatement")) {
                return statement(c, ps, (String) args[0]);
            }
            return result;
        });
    }

    private PreparedStatement statement(Connection c, PreparedStatement ps, String sql) {
        List<Object[]> bindings = new ArrayList<>();
        return proxy(PreparedStatement.class, (p, m, args) -> {
            String name = m.getName();
            if (name.startsWith("set") && args != null && args.length >= 2 && m.getParameterTypes()[0] == int.class) {
                bindings.add(new Object[] {m, args});
            } else if ((name.equals("executeQuery") || name.equals("executeUpdate") || name.equals("execute"))
                    && args == null) {
                plans.add(new Plan(sql, explain(c, sql, bindings)));
            }
            return invoke(ps, m, args);
        });
    }

    private static String explain(Connection c, String sql, List<Object[]> bindings) throws Exception {
        try (PreparedStatement explain = c.prepareStatement("EXPLAIN " + sql)) {
            for (Object[] binding : bindings) {
                ((Method) binding[0]).invoke(explain, (Object[]) binding[1]);
            }
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = explain.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }

    private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(QueryPlans.class.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
