package dev.mdx.sampling;

import dev.mdx.schedule.ScheduleConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** The samplers we implement, with their command-line names and the diffusers scheduler class each reproduces. */
public enum SamplerKind {
    DDPM("ddpm", "DDPMScheduler"),
    DDIM("ddim", "DDIMScheduler"),
    EULER("euler", "EulerDiscreteScheduler"),
    EULER_ANCESTRAL("euler_a", "EulerAncestralDiscreteScheduler"),
    DPMPP_2M("dpm++2m", "DPMSolverMultistepScheduler"),
    LCM("lcm", "LCMScheduler"),
    UFOGEN("ufogen", "UFOGenScheduler");

    private final String cliName;
    private final String diffusersClass;

    SamplerKind(String cliName, String diffusersClass) {
        this.cliName = cliName;
        this.diffusersClass = diffusersClass;
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

    /** The sampler reproducing a diffusers scheduler class ({@code _class_name}), if we have one. */
    public static Optional<SamplerKind> fromDiffusersClass(String className) {
        return Arrays.stream(values()).filter(k -> k.diffusersClass.equals(className)).findFirst();
    }
}
