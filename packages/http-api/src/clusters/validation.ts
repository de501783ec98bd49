import Joi from 'joi';
import { LIMITS } from '../shared/validation';

/** A cluster name: a slug, as in a DNS label. */
export const CLUSTER_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A Flink JobID: 32 hex digits (Flink writes them in lower case; either is read). */
export const FLINK_JOB_ID = /^[0-9a-fA-F]{32}$/;

const clusterName = Joi.string().min(1).max(63).pattern(CLUSTER_NAME).messages({
  'string.pattern.base':
    '"name" must be a slug: lower-case letters, digits and "-", 1 to 63 characters, starting with a letter',
});

// Credentials are write-only: they are stored, sent to the JobManager, and never answered.
const clusterAuth = Joi.alternatives()
  .try(
    Joi.object({
      type: Joi.string().valid('basic').required(),
      username: Joi.string().min(1).max(255).required(),
      password: Joi.string().min(1).max(1024).required(),
    }),
    Joi.object({
      type: Joi.string().valid('bearer').required(),
      token: Joi.string().min(1).max(4096).required(),
    }),
  )
  .allow(null)
  .messages({
    'alternatives.match':
      '"auth" must be basic credentials (type "basic", username, password), a bearer token (type "bearer", token), or null',
  });

const clusterFields = {
  url: Joi.string()
    .max(LIMITS.urlLength)
    .uri({ scheme: ['http', 'https'] })
    .messages({ 'string.uriCustomScheme': '"url" must be an absolute http(s) URL of the JobManager REST API' }),
  auth: clusterAuth,
  savepointDir: Joi.string().min(1).max(LIMITS.pathLength).allow(null),
};

export const createClusterSchema = Joi.object({
  name: clusterName.required(),
  ...clusterFields,
  url: clusterFields.url.required(),
});

// The name is the cluster's identity (jobs name it): a PUT changes the rest.
export const updateClusterSchema = Joi.object(clusterFields)
  .or(...Object.keys(clusterFields))
  .messages({ 'object.missing': `send at least one field to change (${Object.keys(clusterFields).join(', ')})` });
