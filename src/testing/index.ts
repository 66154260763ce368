/** slotflow/testing (work in progress). */
export {};
