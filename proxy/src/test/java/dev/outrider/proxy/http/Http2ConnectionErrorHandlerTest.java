package dev.outrider.proxy.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Http2ConnectionErrorHandlerTest {
    @Test
    void messagesStayOnOneShortLine() {
        assertThat(Http2ConnectionErrorHandler.shortMessage(null)).isEmpty();
        assertThat(Http2ConnectionErrorHandler.shortMessage("Frame length 5 invalid.")).isEqualTo("Frame length 5 invalid.");
        assertThat(Http2ConnectionErrorHandler.shortMessage("Invalid header 'a\r\nWARN forged line'\u007f"))
                .isEqualTo("Invalid header 'a??WARN forged line'?");
        assertThat(Http2ConnectionErrorHandler.shortMessage("x".repeat(500))).isEqualTo("x".repeat(160) + "...");
    }
}
