import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DecisionBands } from '../../src/postprocess/decision-bands';

describe('decision bands', () => {
  it('picks the highest band whose threshold the score exceeds', () => {
    const bands = DecisionBands.parse('step_up:0.60,block:0.82');
    assert.equal(bands.decide(0), 'allow');
    assert.equal(bands.decide(0.6), 'allow');
    assert.equal(bands.decide(0.6000001), 'step_up');
    assert.equal(bands.decide(0.82), 'step_up');
    assert.equal(bands.decide(0.83), 'block');
    assert.equal(DecisionBands.parse('review:0.5', 'pass').decide(0.1), 'pass');
  });

  it('refuses malformed specs', () => {
    assert.throws(() => DecisionBands.parse('block=0.8'), /must look like name:threshold/);
    assert.throws(() => DecisionBands.parse('a:0.5,a:0.6'), /named twice/);
    assert.throws(() => DecisionBands.parse('allow:0.5'), /named twice/);
    assert.throws(() => DecisionBands.parse('a:0.5,b:0.5'), /must increase/);
  });
});
