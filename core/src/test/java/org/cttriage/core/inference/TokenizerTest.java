package org.cttriage.core.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerTest {
    private final Tokenizer t = new Tokenizer(List.of("<pad>", "<unk>", "cyst", "in", "liver", "the"), 4, 0, 1);

    @Test
    void lowercasesSplitsOnNonAlphanumericsAndPads() {
        Tokenizer.Tokens tokens = t.tokenize("Cyst  in-the LIVER.");
        assertThat(tokens.ids()).containsExactly(2, 3, 5, 4);
        assertThat(tokens.unknownWords()).isEmpty();
        assertThat(t.tokenize("cyst").ids()).containsExactly(2, 0, 0, 0);
    }

    @Test
    void reportsUnknownWordsAndTruncation() {
        Tokenizer.Tokens tokens = t.tokenize("hepatic cyst in the liver");
        assertThat(tokens.ids()).containsExactly(1, 2, 3, 5);
        assertThat(tokens.unknownWords()).containsExactly("hepatic");
        assertThat(tokens.truncated()).isTrue();
    }
}
