package id.ktpbridge.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fabricates OCR output ({@code ktpData}) for a partner user id. Values are a pure function of
 * the id (same user → same card) and obviously fake, so they can never be mistaken for real
 * personal data. The NIK follows the real layout: region code, birth date (+40 for women), serial.
 */
final class SyntheticKtp {

    private record Person(String name, String gender) { }

    private record Region(String code, String province, String city, String birthPlace) { }

    private static final List<Person> PEOPLE = List.of(
            new Person("SITI CONTOH", "female"), new Person("BUDI CONTOH", "male"),
            new Person("DEWI SAMPEL", "female"), new Person("AGUS PERCOBAAN", "male"),
            new Person("RINA UJICOBA", "female"), new Person("JOKO FIKTIF", "male"),
            new Person("MAYA DUMMY", "female"), new Person("EKO TIRUAN", "male"));

    private static final List<Region> REGIONS = List.of(
            new Region("3273", "JAWA BARAT", "KOTA BANDUNG", "BANDUNG"),
            new Region("3578", "JAWA TIMUR", "KOTA SURABAYA", "SURABAYA"),
            new Region("3374", "JAWA TENGAH", "KOTA SEMARANG", "SEMARANG"),
            new Region("3171", "DKI JAKARTA", "KOTA JAKARTA PUSAT", "JAKARTA"),
            new Region("5171", "BALI", "KOTA DENPASAR", "DENPASAR"));

    private static final List<String> RELIGIONS = List.of("ISLAM", "KRISTEN", "KATOLIK", "HINDU", "BUDDHA");
    private static final List<String> BLOOD_TYPES = List.of("-", "A", "B", "AB", "O");
    private static final List<String> OCCUPATIONS =
            List.of("KARYAWAN SWASTA", "PELAJAR/MAHASISWA", "WIRASWASTA", "MENGURUS RUMAH TANGGA");
    private static final List<String> MARITAL = List.of("BELUM KAWIN", "KAWIN", "CERAI HIDUP");
    private static final List<String> DISTRICTS = List.of("SUKAMAJU", "CONTOHREJO", "SAMPELSARI");
    private static final List<String> TOWNS = List.of("MEKARSARI", "UJICOBA JAYA", "TIRUAN INDAH");

    private SyntheticKtp() { }

    static Map<String, String> forUser(String partnerUserId) {
        byte[] h = sha256(partnerUserId == null ? "" : partnerUserId);
        Person person = pick(PEOPLE, h[0]);
        Region region = pick(REGIONS, h[1]);
        int year = 1960 + u(h[2]) % 45;
        int month = 1 + u(h[3]) % 12;
        int day = 1 + u(h[4]) % 28;
        int serial = 1 + (u(h[5]) << 8 | u(h[6])) % 9999;
        int district = 1 + u(h[7]) % 30;
        int nikDay = "female".equals(person.gender()) ? day + 40 : day;
        String nik = region.code() + two(district) + two(nikDay) + two(month) + two(year % 100)
                + String.format("%04d", serial);

        Map<String, String> ktp = new LinkedHashMap<>();
        ktp.put("nik", nik);
        ktp.put("name", person.name());
        ktp.put("region", region.birthPlace());
        ktp.put("dateOfBirth", two(day) + "-" + two(month) + "-" + year);
        ktp.put("bloodType", pick(BLOOD_TYPES, h[8]));
        ktp.put("religion", pick(RELIGIONS, h[9]));
        ktp.put("province", region.province());
        ktp.put("city", region.city());
        ktp.put("address", "JL. CONTOH NO. " + (1 + u(h[10]) % 120));
        ktp.put("district", pick(DISTRICTS, h[11]));
        ktp.put("town", pick(TOWNS, h[12]));
        ktp.put("gender", person.gender());
        ktp.put("rt", String.format("%03d", 1 + u(h[13]) % 20));
        ktp.put("rw", String.format("%03d", 1 + u(h[14]) % 15));
        ktp.put("occupation", pick(OCCUPATIONS, h[15]));
        ktp.put("validUntil", ""); // e-KTPs issued since 2016 are valid for life
        ktp.put("citizenship", "INDONESIA");
        ktp.put("maritalStatus", pick(MARITAL, h[16]));
        ktp.put("issuanceDate", two(1 + u(h[17]) % 28) + "-" + two(1 + u(h[18]) % 12) + "-" + (year + 17 + u(h[19]) % 5));
        return ktp;
    }

    private static <T> T pick(List<T> list, byte b) {
        return list.get(u(b) % list.size());
    }

    private static int u(byte b) {
        return b & 0xff;
    }

    private static String two(int n) {
        return String.format("%02d", n);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
