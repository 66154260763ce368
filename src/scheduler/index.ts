export { Scheduler, TaskQueue, type Task } from './Scheduler.js';
