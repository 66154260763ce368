export { systemClock, type Clock, type TimerHandle } from './Clock.js';
