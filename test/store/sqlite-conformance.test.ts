/** Every role's conformance suite on the SQLite store, on each driver this Node can load. */
import { describeAccessConformance } from './conformance/access.js';
import { describeAlertsConformance } from './conformance/alerts.js';
import { describeFleetConformance } from './conformance/fleet.js';
import { describeMetaConformance } from './conformance/meta.js';
import { describePausesConformance } from './conformance/pauses.js';
import { describeRunsConformance } from './conformance/runs.js';
import { describeSamplesConformance } from './conformance/samples.js';
import { describeStatsConformance } from './conformance/stats.js';
import { describeStoreConformance } from './conformance/store.js';
import { describeDriverChoice, forEachSqliteDriver, sqliteFactory } from './sqlite-drivers.js';

describeDriverChoice();

forEachSqliteDriver((driver) => {
  const name = `sqlite (${driver})`;
  const make = sqliteFactory(driver);
  describeRunsConformance(name, make);
  describeStatsConformance(name, make);
  describeSamplesConformance(name, make);
  describeAlertsConformance(name, make);
  describeMetaConformance(name, make);
  describePausesConformance(name, make);
  describeFleetConformance(name, make);
  describeAccessConformance(name, make);
  describeStoreConformance(name, make);
});
