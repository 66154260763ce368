/** `1 job`, `2 jobs`: the counts `slotflow run` prints. */
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
