package dev.mdx.testing;

import dev.mdx.tensor.EngineThreads;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class with one engine thread and restores the count afterwards ({@code @ExtendWith}): tiny tensors
 * gain nothing from intra-op threads, on a busy 2-core machine their spinning costs 50x, and the goldens were
 * made on one thread (the summation order).
 */
public final class OneEngineThread implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(OneEngineThread.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).put("saved", EngineThreads.current());
        EngineThreads.set(1);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        EngineThreads.set(context.getStore(NAMESPACE).get("saved", Integer.class));
    }
}
