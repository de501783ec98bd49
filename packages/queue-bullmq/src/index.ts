export { redisConnection, pingRedis, type RedisClient, type RedisNode, type RedisSettings } from './connection';
export { EXECUTIONS_QUEUE, SCHEDULES_QUEUE, actionSchedulerIdFor, jobIdFor, schedulerIdFor } from './message-ids';
export { BullWorkQueue, DEFAULT_RETRY, type RetryPolicy } from './work-queue';
export { BullActionTimer, BullScheduleTimer } from './schedule-timer';
export { startExecutionConsumer, type ExecutionHandlers } from './execution-consumer';
export type { ConsumerOptions } from './consumer-options';
export { startTickConsumer, nominalTimeOf } from './tick-consumer';
export { RedisLease } from './redis-lease';
export {
  BullDeliveryQueue,
  BullEventBus,
  DELIVERIES_QUEUE,
  EVENTS_QUEUE,
  backoffDelay,
  deliveryMessageId,
  eventMessageId,
  startEventConsumers,
  type Backoff,
  type EventHandlers,
} from './event-queues';
