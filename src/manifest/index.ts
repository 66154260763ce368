/** slotflow/manifest (work in progress). */
export {};
