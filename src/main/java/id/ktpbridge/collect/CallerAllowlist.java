package id.ktpbridge.collect;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Optional source-address check of callbacks: a list of CIDR blocks (IPv4 or IPv6). Empty means
 * any caller is allowed.
 */
public class CallerAllowlist {

    private record Block(byte[] network, int prefix) {
    }

    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    private final List<Block> blocks = new ArrayList<>();

    /** @param cidrs comma-separated, e.g. {@code 103.10.0.0/16, 127.0.0.1/32} */
    public CallerAllowlist(String cidrs) {
        if (cidrs == null || cidrs.isBlank()) {
            return;
        }
        for (String raw : cidrs.split(",")) {
            String cidr = raw.trim();
            if (cidr.isEmpty()) {
                continue;
            }
            String[] parts = cidr.split("/", 2);
            byte[] address = literal(parts[0], cidr);
            int prefix = parts.length == 2 ? parsePrefix(parts[1], cidr) : address.length * 8;
            if (prefix < 0 || prefix > address.length * 8) {
                throw new IllegalStateException("ktp.callback.allowed-cidrs: bad prefix in '" + cidr + "'");
            }
            blocks.add(new Block(address, prefix));
        }
    }

    public boolean isEmpty() {
        return blocks.isEmpty();
    }

    public boolean allows(String ip) {
        if (blocks.isEmpty()) {
            return true;
        }
        if (ip == null || ip.isBlank()) {
            return false;
        }
        byte[] address;
        try {
            address = literal(withoutPort(ip.trim()), ip);
        } catch (IllegalStateException e) {
            return false;
        }
        for (Block b : blocks) {
            if (b.network().length == address.length && matches(b.network(), address, b.prefix())) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(byte[] network, byte[] address, int prefix) {
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (network[i] != address[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (network[full] & mask) == (address[full] & mask);
    }

    /**
     * A caller's address as some proxies write it in {@code X-Forwarded-For}: with its port
     * ({@code 203.0.113.7:41234}) or in brackets ({@code [2001:db8::1]}, {@code [2001:db8::1]:443}).
     * A bare IPv6 address (more than one colon) is left as it is.
     */
    static String withoutPort(String address) {
        if (address.startsWith("[")) {
            int end = address.indexOf(']');
            return end > 0 ? address.substring(1, end) : address;
        }
        int colon = address.indexOf(':');
        return colon > 0 && colon == address.lastIndexOf(':') ? address.substring(0, colon) : address;
    }

    /**
     * Parses an IP literal without any DNS lookup: a dotted quad, or an IPv6 address (a colon in
     * it makes the JDK parse it as a literal). Anything else, a bare hex word such as {@code cafe}
     * included, which the JDK would look up as a host name, is refused.
     */
    private static byte[] literal(String text, String context) {
        if (!IPV4.matcher(text).matches() && !(text.indexOf(':') >= 0 && text.matches("[0-9a-fA-F:.]+"))) {
            throw new IllegalStateException("ktp.callback.allowed-cidrs: '" + context + "' is not an IP address block");
        }
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException("ktp.callback.allowed-cidrs: '" + context + "' is not an IP address block");
        }
    }

    private static int parsePrefix(String s, String cidr) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("ktp.callback.allowed-cidrs: bad prefix in '" + cidr + "'");
        }
    }
}
