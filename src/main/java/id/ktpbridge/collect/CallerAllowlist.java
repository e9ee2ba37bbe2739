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
            address = literal(ip.trim(), ip);
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

    /** Parses an IP literal without any DNS lookup. */
    private static byte[] literal(String text, String context) {
        if (!text.matches("[0-9a-fA-F:.]+")) {
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
