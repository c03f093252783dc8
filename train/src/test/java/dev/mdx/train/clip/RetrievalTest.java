package dev.mdx.train.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RetrievalTest {
    @Test
    void topKCountsAQueryWhenItsGroupIsAmongTheBest() {
        double[][] scores = {
            {0.9, 0.1, 0.2, 0.3, 0.0, -0.1}, // group 0 first
            {0.9, 0.8, 0.7, 0.6, 0.5, 0.4},  // group 3 at rank 3
            {0.1, 0.2, 0.3, 0.4, 0.5, 0.6},  // group 2 at rank 3
            {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}}; // all tied: column order, group 5 at rank 5
        int[] queries = {0, 3, 2, 5};
        int[] candidates = {0, 1, 2, 3, 4, 5};
        assertEquals(0.25, Retrieval.topK(scores, queries, candidates, 1));
        assertEquals(0.25, Retrieval.topK(scores, queries, candidates, 3));
        assertEquals(0.75, Retrieval.topK(scores, queries, candidates, 4));
        assertEquals(0.75, Retrieval.topK(scores, queries, candidates, 5));
        assertEquals(1.0, Retrieval.topK(scores, queries, candidates, 6));
    }

    @Test
    void severalCandidatesOfAGroupCountOnceAndTheBestOneDecides() {
        double[][] scores = {{0.5, 0.9, 0.8, 0.7}};
        // group 7 holds columns 0 and 3; the best of them (0.7) has one other-group candidate (0.9, 0.8) above it each
        assertEquals(0.0, Retrieval.topK(scores, new int[] {7}, new int[] {7, 1, 2, 7}, 2));
        assertEquals(1.0, Retrieval.topK(scores, new int[] {7}, new int[] {7, 1, 2, 7}, 3));
        assertEquals(0.0, Retrieval.topK(scores, new int[] {9}, new int[] {7, 1, 2, 7}, 4), "no candidate of group 9");
    }

    @Test
    void cosineIgnoresLength() {
        double[][] s = Retrieval.cosine(new float[][] {{3, 0}, {1, 1}}, new float[][] {{2, 0}, {0, 5}});
        assertEquals(1.0, s[0][0], 1e-12);
        assertEquals(0.0, s[0][1], 1e-12);
        assertEquals(Math.sqrt(0.5), s[1][1], 1e-12);
    }
}
