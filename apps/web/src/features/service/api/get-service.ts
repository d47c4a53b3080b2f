// The status query lives in lib/ (the history tab reads it too); the service feature's name for it.
export { getService, serviceQuery, useService } from '../../../lib/service-queries';
