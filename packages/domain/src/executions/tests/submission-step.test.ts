import { expect } from 'chai';
import { submissionStepFor, type Execution, type SubmissionStep } from '../..';

describe('submissionStepFor: what a submit message does with the row it finds', () => {
  const at = new Date('2030-01-01T00:00:00Z');
  type Row = Pick<Execution, 'status' | 'runRequestedAt' | 'submittedAt'>;
  const table: [string, Row, SubmissionStep][] = [
    ['claimed', { status: 'SUBMITTING', runRequestedAt: null, submittedAt: null }, 'submit'],
    ['retried after the run request', { status: 'SUBMITTING', runRequestedAt: at, submittedAt: null }, 'submit'],
    [
      'stopped before the run request',
      { status: 'STOPPING', runRequestedAt: null, submittedAt: null },
      'cancel-unsubmitted',
    ],
    ['stopped while the run request was out', { status: 'STOPPING', runRequestedAt: at, submittedAt: null }, 'submit'],
    [
      'stopped after submission (the stop handler owns it)',
      { status: 'STOPPING', runRequestedAt: at, submittedAt: at },
      'nothing',
    ],
    [
      'already running (redelivered): the observer follows it',
      { status: 'RUNNING', runRequestedAt: at, submittedAt: at },
      'nothing',
    ],
    ['still queued (another claim)', { status: 'QUEUED', runRequestedAt: null, submittedAt: null }, 'nothing'],
    ['ended', { status: 'FAILED', runRequestedAt: null, submittedAt: null }, 'nothing'],
    ['cancelled', { status: 'CANCELLED', runRequestedAt: null, submittedAt: null }, 'nothing'],
    ['finished', { status: 'FINISHED', runRequestedAt: at, submittedAt: at }, 'nothing'],
  ];
  for (const [name, row, step] of table) {
    it(`${row.status}, ${name} → ${step}`, () => expect(submissionStepFor(row)).to.equal(step));
  }
});
