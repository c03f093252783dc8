package dev.mdx.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An indexed list of children, named 0, 1, 2... as torch.nn.ModuleList names them. */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    public M add(M module) {
        child(Integer.toString(items.size()), module);
        items.add(module);
        return module;
    }

    public List<M> items() {
        return Collections.unmodifiableList(items);
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }
}
