package dev.mdx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** `mdx serve` and `mdx serve-load` parse flags and report bad input in one line (their behaviour is serve's). */
class ServeCommandTest {
    @Test
    void badServeFlagsAreOneLine() {
        CliRun r = CliRun.mdx("serve", "--workers", "0");
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertTrue(r.err().startsWith("mdx serve: workers must be at least 1, got 0"), r.err());
        CliRun model = CliRun.mdx("serve", "-m", "no-such-model", "--port", "0");
        assertEquals(ExitCodes.FAILURE, model.code(), model.err());
        assertTrue(model.err().contains("model 'no-such-model' is neither a folder nor a bundled model"), model.err());
        CliRun web = CliRun.mdx("serve", "--web-dir", "no-such-folder", "--port", "0");
        assertEquals(ExitCodes.USAGE, web.code(), web.err());
        assertTrue(web.err().startsWith("mdx serve: --web-dir ") && web.err().contains("no-such-folder: no index.html"),
                web.err());
    }

    @Test
    void theLoadTestTargetsOnlyThisMachineAndNeedsAServer() throws Exception {
        CliRun remote = CliRun.mdx("serve-load", "--url", "http://10.9.8.7:7860", "--requests", "1");
        assertEquals(ExitCodes.FAILURE, remote.code(), remote.err());
        assertTrue(remote.err().contains("only targets this machine"), remote.err());
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        CliRun none = CliRun.mdx("serve-load", "--url", "http://127.0.0.1:" + port, "--requests", "1");
        assertEquals(ExitCodes.FAILURE, none.code(), none.err());
        assertTrue(none.err().contains("no mdx server answers at http://127.0.0.1:" + port), none.err());
    }
}
