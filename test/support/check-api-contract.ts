import { checkApiContract } from './api-contract';

/** Required by the fast suite's mocha config: every call of the test client is checked against the OpenAPI document. */
checkApiContract();
