package dev.mdx.sampling;

import dev.mdx.schedule.ScheduleConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The samplers we implement, with their command-line names, the diffusers scheduler class each reproduces and the
 * name AUTOMATIC1111's web UI shows (used in PNG parameters and by its HTTP API).
 */
public enum SamplerKind {
    DDPM("ddpm", "DDPMScheduler", "DDPM"),
    DDIM("ddim", "DDIMScheduler", "DDIM"),
    EULER("euler", "EulerDiscreteScheduler", "Euler"),
    EULER_ANCESTRAL("euler_a", "EulerAncestralDiscreteScheduler", "Euler a"),
    DPMPP_2M("dpm++2m", "DPMSolverMultistepScheduler", "DPM++ 2M"),
    LCM("lcm", "LCMScheduler", "LCM"),
    UFOGEN("ufogen", "UFOGenScheduler", "UFOGen");

    private final String cliName;
    private final String diffusersClass;
    private final String a1111Name;

    SamplerKind(String cliName, String diffusersClass, String a1111Name) {
        this.cliName = cliName;
        this.diffusersClass = diffusersClass;
        this.a1111Name = a1111Name;
    }

    /** The web UI's name; with Karras sigmas the UI appends " Karras" (for example "DPM++ 2M Karras"). */
    public String a1111Name() {
        return a1111Name;
    }

    public String cliName() {
        return cliName;
    }

    public String diffusersClass() {
        return diffusersClass;
    }

    public Sampler create(ScheduleConfig config) {
        return create(config, SamplerOptions.defaults());
    }

    public Sampler create(ScheduleConfig config, SamplerOptions options) {
        return switch (this) {
            case DDPM -> new DdpmSampler(config, options);
            case DDIM -> new DdimSampler(config, options);
            case EULER -> new EulerSampler(config, options);
            case EULER_ANCESTRAL -> new EulerAncestralSampler(config, options);
            case DPMPP_2M -> new DpmSolverMultistepSampler(config, options);
            case LCM -> new LcmSampler(config, options);
            case UFOGEN -> new UfoGenSampler(config, options);
        };
    }

    /** The sampler of a command-line name such as {@code euler_a} or {@code dpm++2m} (case-insensitive). */
    public static SamplerKind fromCliName(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        for (SamplerKind k : values()) {
            if (k.cliName.equals(wanted)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown sampler '" + name + "' (known: "
                + Arrays.stream(values()).map(SamplerKind::cliName).collect(Collectors.joining(", ")) + ")");
    }

    /**
     * The sampler of any of its names: the command-line name, the diffusers class name or the web UI name, all
     * case-insensitive ({@code euler_a}, {@code EulerAncestralDiscreteScheduler}, {@code Euler a}).
     */
    public static SamplerKind parse(String name) {
        String wanted = name.trim();
        for (SamplerKind k : values()) {
            if (k.cliName.equalsIgnoreCase(wanted) || k.diffusersClass.equalsIgnoreCase(wanted)
                    || k.a1111Name.equalsIgnoreCase(wanted)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown sampler '" + name + "' (known: "
                + Arrays.stream(values()).map(SamplerKind::cliName).collect(Collectors.joining(", "))
                + "; diffusers class names such as " + EULER_ANCESTRAL.diffusersClass + " also work)");
    }

    /** The sampler reproducing a diffusers scheduler class ({@code _class_name}), if we have one. */
    public static Optional<SamplerKind> fromDiffusersClass(String className) {
        return Arrays.stream(values()).filter(k -> k.diffusersClass.equals(className)).findFirst();
    }
}
