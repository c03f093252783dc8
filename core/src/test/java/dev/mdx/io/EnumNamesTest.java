package dev.mdx.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.mdx.unet.DownBlockType;
import org.junit.jupiter.api.Test;

class EnumNamesTest {
    @Test
    void findsByTheSpellingFilesUseAndNothingElse() {
        assertEquals(DType.F16, EnumNames.find(DType.values(), DType::name, "F16"));
        assertNull(EnumNames.find(DType.values(), DType::name, "f16"), "exact spelling only");
        assertNull(EnumNames.find(DType.values(), DType::name, null));
        assertEquals(DownBlockType.CROSS_ATTN_DOWN_BLOCK_2D, DownBlockType.fromDiffusersName("CrossAttnDownBlock2D"));
        assertNull(DownBlockType.fromDiffusersName("DownBlock3D"));
    }
}
