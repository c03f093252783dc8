package dev.mdx.schedule;

import dev.mdx.io.JsonConfig;

/** An enum constant with the spelling diffusers uses in scheduler_config.json. */
public interface JsonNamed {
    String jsonName();

    /**
     * The constant of {@code type} whose json name is the string at {@code key}, or {@code fallback} when the key is
     * absent or null. An unknown value is rejected with a message naming the field and the accepted values.
     */
    static <E extends Enum<E> & JsonNamed> E parse(JsonConfig config, String key, Class<E> type, E fallback) {
        String value = config.getString(key, null);
        if (value == null) {
            return fallback;
        }
        StringBuilder accepted = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            if (e.jsonName().equals(value)) {
                return e;
            }
            accepted.append(accepted.length() == 0 ? "" : ", ").append('"').append(e.jsonName()).append('"');
        }
        throw config.error(key, "has unsupported value \"" + value + "\" (supported: " + accepted + ")");
    }
}
