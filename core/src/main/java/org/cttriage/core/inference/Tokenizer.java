package org.cttriage.core.inference;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The text encoder's tokenizer (the model package's {@code tokenizer}): lowercase, split
 * on every run of characters outside [a-z0-9], look each word up in the vocabulary
 * (unknown words map to the unknown id and are reported), pad or truncate to a fixed length.
 */
public final class Tokenizer {
    private static final Pattern SPLIT = Pattern.compile("[^a-z0-9]+");

    private final Map<String, Integer> ids = new HashMap<>();
    private final int maxTokens;
    private final int padId;
    private final int unknownId;

    /** A prompt as token ids, with the words the vocabulary lacks. */
    public record Tokens(long[] ids, List<String> unknownWords, boolean truncated) {
    }

    /** @param vocabulary tokens by id (line order of vocabulary.txt) */
    public Tokenizer(List<String> vocabulary, int maxTokens, int padId, int unknownId) {
        for (int i = 0; i < vocabulary.size(); i++) {
            ids.putIfAbsent(vocabulary.get(i), i);
        }
        this.maxTokens = maxTokens;
        this.padId = padId;
        this.unknownId = unknownId;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** Tokenizes one prompt. */
    public Tokens tokenize(String text) {
        List<String> words = new ArrayList<>();
        for (String w : SPLIT.split(text.toLowerCase(Locale.ROOT))) {
            if (!w.isEmpty()) {
                words.add(w);
            }
        }
        long[] out = new long[maxTokens];
        java.util.Arrays.fill(out, padId);
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            Integer id = ids.get(words.get(i));
            if (id == null) {
                unknown.add(words.get(i));
            }
            if (i < maxTokens) {
                out[i] = id == null ? unknownId : id;
            }
        }
        return new Tokens(out, List.copyOf(unknown), words.size() > maxTokens);
    }
}
