package dev.mdx.train.unet;

import dev.mdx.nn.Module;
import dev.mdx.unet.UNet2DConditionModel;

/** The two networks UFOGen trains, as one module for the trainer: keys {@code generator.*}, {@code discriminator.*}. */
public final class UfoGenModels extends Module {
    static final String GENERATOR = "generator.";
    static final String DISCRIMINATOR = "discriminator.";

    final UNet2DConditionModel generator;
    final Discriminator discriminator;

    public UfoGenModels(UNet2DConditionModel generator, Discriminator discriminator) {
        this.generator = child("generator", generator);
        this.discriminator = child("discriminator", discriminator);
    }
}
