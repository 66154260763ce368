export { Job } from './Job.js';
