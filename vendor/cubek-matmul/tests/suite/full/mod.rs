pub mod gemv;
pub mod naive;
pub mod plane_accelerated;
pub mod plane_vecmat;
pub mod tma;
pub mod unit;
