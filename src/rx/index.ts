/** slotflow/rx (work in progress). */
export {};
