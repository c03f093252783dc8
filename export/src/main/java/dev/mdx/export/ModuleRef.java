package dev.mdx.export;

import dev.mdx.nn.Module;
import dev.mdx.nn.Parameter;

/**
 * A module of a loaded mdx model and its state-dict key: the exporters walk the tree by the child names the Java
 * modules register, which are exactly the diffusers / transformers keys, so initializers carry those keys.
 */
record ModuleRef(Module module, String key) {
    static ModuleRef root(Module module) {
        return new ModuleRef(module, "");
    }

    ModuleRef child(String name) {
        Module c = module.children().get(name);
        if (c == null) {
            throw new IllegalStateException("module " + describe() + " has no child " + name + " (children: "
                    + module.children().keySet() + ")");
        }
        return new ModuleRef(c, key.isEmpty() ? name : key + "." + name);
    }

    ModuleRef child(int index) {
        return child(Integer.toString(index));
    }

    boolean has(String name) {
        return module.children().containsKey(name);
    }

    /** Children of a ModuleList (or a Sequential) named 0, 1, ...: how many there are. */
    int count(String listName) {
        return has(listName) ? module.children().get(listName).children().size() : 0;
    }

    /** A parameter of this module itself, or null when it has none of that name. */
    Parameter parameter(String name) {
        return module.namedParameters().get(name);
    }

    String paramKey(String name) {
        return key.isEmpty() ? name : key + "." + name;
    }

    <M extends Module> M as(Class<M> type) {
        if (!type.isInstance(module)) {
            throw new IllegalStateException(describe() + " is a " + module.getClass().getSimpleName() + ", not a "
                    + type.getSimpleName());
        }
        return type.cast(module);
    }

    String describe() {
        return key.isEmpty() ? "(root)" : key;
    }
}
